// The immutable set of a cluster's hosts, with the list load balancers pick from precomputed.
import { u32 } from '../util/values.js';
import { Host, type HealthStatus } from './host.js';

/** A cluster's hosts at one moment. Rebuilt (never mutated) on EDS/DNS updates or health changes. */
export class HostSet {
  /** Hosts load balancers pick from: healthy hosts of the best priority, or all of them in panic mode. */
  readonly active: readonly Host[];
  /** True when healthy hosts fell below the panic threshold and `active` holds every host. */
  readonly panic: boolean;
  /** Number of healthy hosts. */
  readonly healthyCount: number;
  /** True when every active host has the same weight. */
  readonly uniformWeights: boolean;

  constructor(
    /** Every host, sorted by priority. */
    readonly hosts: readonly Host[],
    /** Healthy panic threshold in percent (Envoy default 50; 0 disables panic mode). */
    panicThresholdPct: number,
  ) {
    const healthy = hosts.filter((h) => h.healthy);
    this.healthyCount = healthy.length;
    let best = Infinity;
    for (const h of healthy) best = Math.min(best, h.priority);
    const inBest = healthy.filter((h) => h.priority === best);
    const levelHosts = hosts.filter((h) => h.priority === (best === Infinity ? 0 : best));
    const pct = levelHosts.length === 0 ? 0 : (100 * inBest.length) / levelHosts.length;
    this.panic = hosts.length > 0 && panicThresholdPct > 0 && pct < panicThresholdPct;
    this.active = this.panic ? (levelHosts.length > 0 ? levelHosts : hosts) : inBest;
    this.uniformWeights = this.active.every((h) => h.weight === this.active[0].weight);
  }
}

/** An empty host set (cluster without endpoints yet). */
export const EMPTY_HOST_SET = new HostSet([], 50);

/**
 * Hosts from a canonical ClusterLoadAssignment. `previous` maps `address:port` to hosts of the
 * last set so counters survive an update when nothing about the host changed.
 */
export function hostsFromAssignment(cla: any, previous: ReadonlyMap<string, Host> | null): Host[] {
  const out: Host[] = [];
  for (const le of (cla?.endpoints ?? []) as any[]) {
    const priority = Number(le.priority ?? 0);
    const loc = le.locality ?? {};
    const locality = { region: loc.region ?? '', zone: loc.zone ?? '', subZone: loc.subZone ?? '' };
    for (const lb of (le.lbEndpoints ?? []) as any[]) {
      const sa = lb.endpoint?.address?.socketAddress;
      if (!sa) continue;
      const address = String(sa.address ?? '');
      const port = Number(sa.portValue ?? 0);
      const weight = Math.max(1, u32(lb.loadBalancingWeight, 1));
      const health = (lb.healthStatus ?? 'UNKNOWN') as HealthStatus;
      const hostname = String(lb.endpoint?.hostname ?? '');
      const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      const prev = previous?.get(key);
      if (
        prev &&
        prev.weight === weight &&
        prev.healthStatus === health &&
        prev.priority === priority &&
        prev.hostname === hostname
      ) {
        out.push(prev);
      } else {
        out.push(new Host(address, port, hostname, weight, health, priority, locality, lb.metadata ?? null));
      }
    }
  }
  out.sort((a, b) => a.priority - b.priority);
  return out;
}
