// Tells an endpoint-only registry change (a scaled Deployment, a Pod's readiness or labels, a moved
// WorkloadEntry) from one that changes services: which hosts' endpoints changed and which workloads, so
// a push sends EDS alone to proxies in general and everything only to the changed workloads' own proxies
// (Istio's EDS-only "incremental" push for endpoint events).
import type { Endpoint, MeshService, WorkloadInstance } from '../registry/model.js';
import type { ServiceRegistry } from '../registry/registry.js';

/** What an endpoint-only change touched. */
export interface EndpointChange {
  /** Hostnames whose endpoints differ. */
  readonly hosts: ReadonlySet<string>;
  /** Whether one of `hosts` is resolved by DNS (its endpoints live in CDS, not EDS). */
  readonly dnsHosts: boolean;
  /** Addresses and `name.namespace` of workloads added, removed or changed: their own proxies get a full push. */
  readonly workloads: ReadonlySet<string>;
}

/** The endpoint-only change from `before` to `after`, or null when services themselves changed. */
export function endpointChange(before: ServiceRegistry, after: ServiceRegistry): EndpointChange | null {
  if (before.services.length !== after.services.length) return null;
  const hosts = new Set<string>();
  let dnsHosts = false;
  for (let i = 0; i < after.services.length; i++) {
    const a = before.services[i];
    const b = after.services[i];
    if (a !== b && serviceKey(a) !== serviceKey(b)) return null;
    for (const p of b.ports) {
      if (sameEndpoints(before.endpoints(a, p.port), after.endpoints(b, p.port))) continue;
      hosts.add(b.hostname);
      if (b.resolution === 'DNS' || b.resolution === 'DNS_ROUND_ROBIN') dnsHosts = true;
    }
  }
  return { hosts, dnsHosts, workloads: changedWorkloads(before.workloads, after.workloads) };
}

function serviceKey(s: MeshService): string {
  return JSON.stringify([
    s.hostname,
    s.namespace,
    s.name,
    s.source,
    s.ports,
    s.resolution,
    s.location,
    s.addresses,
    [...s.exportTo],
    s.labels,
  ]);
}

function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return false;
  return true;
}

function workloadKey(w: WorkloadInstance): string {
  return JSON.stringify({ ...w, namedPorts: [...w.namedPorts] });
}

export function changedWorkloads(
  before: readonly WorkloadInstance[],
  after: readonly WorkloadInstance[],
): ReadonlySet<string> {
  const old = new Map(before.map((w) => [`${w.kind}/${w.namespace}/${w.name}`, w]));
  const out = new Set<string>();
  const mark = (w: WorkloadInstance): void => {
    out.add(w.address);
    out.add(`${w.name}.${w.namespace}`);
  };
  for (const w of after) {
    const k = `${w.kind}/${w.namespace}/${w.name}`;
    const o = old.get(k);
    old.delete(k);
    if (o && (o === w || workloadKey(o) === workloadKey(w))) continue;
    mark(w);
    if (o) mark(o);
  }
  for (const w of old.values()) mark(w);
  return out;
}

/** Whether the proxy (node id `type~IP~POD.NS~DOMAIN`) fronts one of the changed workloads. */
export function frontsChangedWorkload(proxyId: string, workloads: ReadonlySet<string>): boolean {
  const [, ip, podNs] = proxyId.split('~');
  return (ip !== undefined && workloads.has(ip)) || (podNs !== undefined && workloads.has(podNs));
}

/** The host of an outbound cluster name `outbound|PORT|SUBSET|HOST`; null for other names. */
export function outboundHost(clusterName: string): string | null {
  if (!clusterName.startsWith('outbound|')) return null;
  const i = clusterName.indexOf('|', clusterName.indexOf('|', 9) + 1);
  return i < 0 ? null : clusterName.slice(i + 1);
}
