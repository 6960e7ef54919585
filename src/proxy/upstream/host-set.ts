// The immutable set of a cluster's hosts: priority levels with Envoy's priority load split and panic
// flags precomputed, so load balancers only index into arrays per request.
import { u32 } from '../util/values.js';
import { Host } from './host.js';
import type { envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment } from '../../xds/envoy-types.js';

/** Envoy's default overprovisioning factor (1.4): a level at >= 71.4% health keeps all its load. */
export const OVERPROVISIONING = 1.4;

/** One priority level of a host set. */
export interface PriorityLevel {
  /** The priority number (0 is highest). */
  readonly priority: number;
  /** Every host of the level. */
  readonly hosts: readonly Host[];
  /** Its healthy hosts. */
  readonly healthy: readonly Host[];
  /** Percent of traffic (0..100) this level receives. */
  readonly load: number;
  /** Panic: too few healthy hosts, so this level balances over all its hosts. */
  readonly panic: boolean;
  /** The hosts this level picks from: `healthy`, or `hosts` in panic. */
  readonly pickable: readonly Host[];
}

/** A cluster's hosts at one moment. Rebuilt (never mutated) on EDS/DNS updates or health changes. */
export class HostSet {
  /** Hosts of the level with the most load (what a single-level balancer picks from). */
  readonly active: readonly Host[];
  /** True when some level receiving traffic is in panic mode. */
  readonly panic: boolean;
  /** Number of healthy hosts. */
  readonly healthyCount: number;
  /** True when every active host has the same weight. */
  readonly uniformWeights: boolean;
  /** Levels that receive traffic (load > 0), highest priority first. */
  readonly levels: readonly PriorityLevel[];

  constructor(
    /** Every host, sorted by priority. */
    readonly hosts: readonly Host[],
    /** Healthy panic threshold in percent (Envoy default 50; 0 disables panic mode). */
    panicThresholdPct: number,
    /** When given, a plain view over exactly these hosts (one level, no health filtering). */
    only: readonly Host[] | null = null,
  ) {
    if (only !== null) {
      this.active = only;
      this.levels = [{ priority: 0, hosts: only, healthy: only, load: 100, panic: false, pickable: only }];
      this.healthyCount = only.length;
      this.panic = false;
    } else {
      this.levels = computeLevels(hosts, panicThresholdPct);
      let healthy = 0;
      for (const h of hosts) if (h.healthy) healthy++;
      this.healthyCount = healthy;
      let best: PriorityLevel | null = null;
      for (const l of this.levels) if (best === null || l.load > best.load) best = l;
      this.active = best === null ? [] : best.pickable;
      this.panic = this.levels.some((l) => l.panic);
    }
    this.uniformWeights = this.active.every((h) => h.weight === this.active[0].weight);
  }

  /** A one-level view over `hosts` for a policy balancer (locality or priority sub-balancers). */
  static view(hosts: readonly Host[]): HostSet {
    return new HostSet(hosts, 0, hosts);
  }
}

/**
 * Envoy's priority load: each level's health is min(100, 1.4 x healthy/total); levels take load in
 * priority order up to their health, normalised when the total is under 100. A level is in panic when
 * the total is under 100 and its own healthy share is below the threshold; with no healthy host at all,
 * every level is in panic and load follows host counts (unless panic is disabled: then nothing is picked).
 */
function computeLevels(hosts: readonly Host[], panicPct: number): PriorityLevel[] {
  const byPrio = new Map<number, Host[]>();
  for (const h of hosts) {
    let l = byPrio.get(h.priority);
    if (!l) byPrio.set(h.priority, (l = []));
    l.push(h);
  }
  const prios = [...byPrio.keys()].sort((a, b) => a - b);
  const raw = prios.map((p) => {
    const all = byPrio.get(p)!;
    const healthy = all.filter((h) => h.healthy);
    return { p, all, healthy, health: Math.min(100, (OVERPROVISIONING * 100 * healthy.length) / all.length) };
  });
  let total = 0;
  for (const r of raw) total += r.health;
  total = Math.min(100, total);
  const out: PriorityLevel[] = [];
  if (total === 0) {
    if (panicPct <= 0) return out;
    for (const r of raw)
      out.push({
        priority: r.p,
        hosts: r.all,
        healthy: r.healthy,
        load: (100 * r.all.length) / hosts.length,
        panic: true,
        pickable: r.all,
      });
    return out;
  }
  let remaining = 100;
  for (const r of raw) {
    const load = Math.min(remaining, (r.health * 100) / total);
    remaining -= load;
    if (load <= 0) continue;
    const panic = total < 100 && panicPct > 0 && (100 * r.healthy.length) / r.all.length < panicPct;
    out.push({
      priority: r.p,
      hosts: r.all,
      healthy: r.healthy,
      load,
      panic,
      pickable: panic ? r.all : r.healthy,
    });
  }
  return out;
}

/** An empty host set (cluster without endpoints yet). */
export const EMPTY_HOST_SET = new HostSet([], 50);

/**
 * Hosts from a canonical ClusterLoadAssignment. `previous` maps `address:port` to hosts of the
 * last set so counters, outlier state and slow-start age survive an update when nothing about the
 * host changed.
 */
export function hostsFromAssignment(
  cla: ClusterLoadAssignment | null,
  previous: ReadonlyMap<string, Host> | null,
): Host[] {
  const out: Host[] = [];
  for (const le of cla?.endpoints ?? []) {
    const priority = Number(le.priority ?? 0);
    const loc = le.locality ?? {};
    const locality = { region: loc.region ?? '', zone: loc.zone ?? '', subZone: loc.subZone ?? '' };
    const localityWeight = u32(le.loadBalancingWeight, 0);
    for (const lb of le.lbEndpoints ?? []) {
      const sa = lb.endpoint?.address?.socketAddress;
      if (!sa) continue;
      const address = String(sa.address ?? '');
      const port = Number(sa.portValue ?? 0);
      const weight = Math.max(1, u32(lb.loadBalancingWeight, 1));
      const health = lb.healthStatus ?? 'UNKNOWN';
      const hostname = String(lb.endpoint?.hostname ?? '');
      const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      const prev = previous?.get(key);
      if (
        prev &&
        prev.weight === weight &&
        prev.healthStatus === health &&
        prev.priority === priority &&
        prev.hostname === hostname &&
        prev.localityWeight === localityWeight &&
        sameLocality(prev.locality, locality) &&
        // Metadata picks the transport socket (auto mTLS): a change needs a new host and pool.
        JSON.stringify(prev.metadata) === JSON.stringify(lb.metadata ?? null)
      ) {
        out.push(prev);
      } else {
        const h = new Host(
          address,
          port,
          hostname,
          weight,
          health,
          priority,
          locality,
          lb.metadata ?? null,
          localityWeight,
        );
        if (prev) {
          // Same endpoint, changed attributes: it keeps its age, counters' meaning and outlier history.
          h.addedAt = prev.addedAt;
          h.outlier = prev.outlier;
          h.outlierEjected = prev.outlierEjected;
        }
        out.push(h);
      }
    }
  }
  out.sort((a, b) => a.priority - b.priority);
  return out;
}

function sameLocality(a: Host['locality'], b: Host['locality']): boolean {
  return a.region === b.region && a.zone === b.zone && a.subZone === b.subZone;
}
