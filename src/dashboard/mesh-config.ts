// What the graph needs from the served config (the control plane's /debug/configz resources): the
// declared services and ServiceEntry hosts, and each VirtualService's weighted split by version.
import type { ConfiguredSplit, KnownService } from './graph-model.js';

/** A served resource as /debug/configz lists it. */
export interface ConfigzResource {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly resource: { readonly spec?: unknown };
}

interface Destination {
  host?: string;
  subset?: string;
}
interface RouteDestination {
  destination?: Destination;
  weight?: number;
}
interface HttpRule {
  match?: unknown[];
  route?: RouteDestination[];
}
interface Subset {
  name?: string;
  labels?: Record<string, string>;
}

/** A host as Istio reads it in a resource of namespace `ns`: short names are that namespace's services. */
export function fqdn(host: string, ns: string): string {
  if (host.includes('*')) return host;
  const dots = host.split('.').length - 1;
  if (dots === 0) return `${host}.${ns}.svc.cluster.local`;
  if (dots === 1) return `${host}.svc.cluster.local`;
  return host;
}

function spec<T>(r: ConfigzResource): T {
  return (r.resource.spec ?? {}) as T;
}

/** Kubernetes Services (`name.ns.svc.cluster.local`) and ServiceEntry hosts. */
export function knownServices(resources: readonly ConfigzResource[]): KnownService[] {
  const out = new Map<string, KnownService>();
  for (const r of resources) {
    const ns = r.namespace ?? 'default';
    if (r.kind === 'Service') {
      const host = `${r.name}.${ns}.svc.cluster.local`;
      out.set(host, { host, namespace: ns, kind: 'service' });
    } else if (r.kind === 'ServiceEntry') {
      for (const h of spec<{ hosts?: string[] }>(r).hosts ?? [])
        if (!out.has(h)) out.set(h, { host: h, namespace: ns, kind: 'serviceentry' });
    }
  }
  return [...out.values()];
}

/** subset name → version label, per DestinationRule host. */
function subsetVersions(resources: readonly ConfigzResource[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const r of resources) {
    if (r.kind !== 'DestinationRule') continue;
    const s = spec<{ host?: string; subsets?: Subset[] }>(r);
    if (!s.host) continue;
    const m = new Map<string, string>();
    for (const sub of s.subsets ?? []) if (sub.name) m.set(sub.name, sub.labels?.version ?? sub.name);
    out.set(fqdn(s.host, r.namespace ?? 'default'), m);
  }
  return out;
}

/**
 * The split each VirtualService's default rule (its last rule without `match`, else its last rule)
 * configures, by destination host and version; only rules whose destinations all name subsets.
 */
export function configuredSplits(resources: readonly ConfigzResource[]): ConfiguredSplit[] {
  const versions = subsetVersions(resources);
  const out: ConfiguredSplit[] = [];
  for (const r of resources) {
    if (r.kind !== 'VirtualService') continue;
    const ns = r.namespace ?? 'default';
    const rules = spec<{ http?: HttpRule[] }>(r).http ?? [];
    const rule = [...rules].reverse().find((x) => !x.match?.length) ?? rules[rules.length - 1];
    const routes = rule?.route ?? [];
    if (routes.length === 0 || !routes.every((d) => d.destination?.host && d.destination.subset)) continue;
    const byHost = new Map<string, Record<string, number>>();
    for (const d of routes) {
      const host = fqdn(d.destination!.host!, ns);
      const version = versions.get(host)?.get(d.destination!.subset!) ?? d.destination!.subset!;
      const w = byHost.get(host) ?? {};
      w[version] = (w[version] ?? 0) + (d.weight ?? (routes.length === 1 ? 100 : 0));
      byHost.set(host, w);
    }
    for (const [host, weights] of byHost)
      out.push({ host, resource: `VirtualService ${ns}/${r.name}`, weights });
  }
  return out;
}
