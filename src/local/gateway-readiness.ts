// Readiness beyond Envoy's /ready: the gateway has endpoints for the local services its routes send to,
// and every proxy has ACKed what the control plane sent it (istio's readiness waits for config too).
import type { Resource } from '../api/resource.js';
import { httpGet } from './readiness.js';

/** The cluster names a route configuration dump sends to (`route.cluster` and weighted clusters). */
export function routeClusters(configDump: unknown): Set<string> {
  const out = new Set<string>();
  const configs = (configDump as { configs?: Array<Record<string, unknown>> })?.configs ?? [];
  for (const c of configs) {
    if (!String(c['@type'] ?? '').endsWith('RoutesConfigDump')) continue;
    const dumps = [
      ...((c.dynamicRouteConfigs as unknown[]) ?? []),
      ...((c.staticRouteConfigs as unknown[]) ?? []),
    ] as Array<{ routeConfig?: { virtualHosts?: Array<{ routes?: Array<{ route?: RouteAction }> }> } }>;
    for (const d of dumps)
      for (const vh of d.routeConfig?.virtualHosts ?? [])
        for (const r of vh.routes ?? []) {
          if (r.route?.cluster) out.add(r.route.cluster);
          for (const w of r.route?.weightedClusters?.clusters ?? []) if (w.name) out.add(w.name);
        }
  }
  return out;
}

interface RouteAction {
  cluster?: string;
  weightedClusters?: { clusters?: Array<{ name?: string }> };
}

/** Cluster name → number of hosts, from admin `/clusters?format=json`. */
export function hostCounts(clustersJson: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const list = (clustersJson as { clusterStatuses?: Array<{ name?: string; hostStatuses?: unknown[] }> })
    ?.clusterStatuses;
  for (const c of list ?? []) if (c.name) out.set(c.name, c.hostStatuses?.length ?? 0);
  return out;
}

/** `svc.ns.svc.cluster.local` of every Service whose selector picks one of the pods. */
export function servicesWithPods(
  resources: readonly Resource[],
  pods: readonly { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }[],
): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.kind !== 'Service') continue;
    const ns = r.metadata.namespace ?? 'default';
    const sel = (r['spec'] as { selector?: Record<string, string> } | undefined)?.selector;
    if (!sel || Object.keys(sel).length === 0) continue;
    const picks = pods.some(
      (p) => p.namespace === ns && Object.entries(sel).every(([k, v]) => p.labels[k] === v),
    );
    if (picks) out.add(`${r.metadata.name}.${ns}.svc.cluster.local`);
  }
  return out;
}

/**
 * Route clusters of the proxy at `adminAddress` (`ip:port`) that have no endpoint although a local pod
 * backs their service (`outbound|PORT||HOST`, HOST in `backed`); subset clusters are not judged (a
 * subset may legitimately match no pod). Null when the admin does not answer.
 */
export async function clustersWithoutEndpoints(
  adminAddress: string,
  backed: ReadonlySet<string>,
): Promise<string[] | null> {
  const [dump, clusters] = await Promise.all([
    httpGet(`http://${adminAddress}/config_dump`, 2000),
    httpGet(`http://${adminAddress}/clusters?format=json`, 2000),
  ]);
  if (dump.status !== 200 || clusters.status !== 200) return null;
  let routes: Set<string>;
  let hosts: Map<string, number>;
  try {
    routes = routeClusters(JSON.parse(dump.body));
    hosts = hostCounts(JSON.parse(clusters.body));
  } catch {
    return null;
  }
  const missing: string[] = [];
  for (const name of routes) {
    const parts = name.split('|');
    if (parts.length !== 4 || parts[0] !== 'outbound' || parts[2] !== '' || !backed.has(parts[3])) continue;
    if ((hosts.get(name) ?? 0) === 0) missing.push(name);
  }
  return missing.sort();
}
