// RING_HASH: Envoy's ketama-style consistent hash ring, built once per host-set change.
import type { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import { u32 } from '../../../util/values.js';
import { hash53, randomHash } from '../hash/xxhash64.js';
import { HOST_SELECTION_RETRIES, wasTried, type LbContext, type LoadBalancer } from '../load-balancer.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../../xds/envoy-types.js';

/** Ring sizes (Envoy's defaults: minimum 1024 entries, maximum 8M). */
export interface RingHashConfig {
  /** Lower bound on ring entries; more entries spread keys more evenly. */
  readonly minimumRingSize: number;
  /** Upper bound on ring entries. */
  readonly maximumRingSize: number;
}

/** Reads `cluster.ringHashLbConfig` with Envoy's defaults. */
export function ringHashConfig(cluster: ClusterConfig): RingHashConfig {
  const c = cluster.ringHashLbConfig ?? {};
  const min = u32(c.minimumRingSize, 1024);
  return {
    minimumRingSize: Math.max(1, min),
    maximumRingSize: Math.max(min, u32(c.maximumRingSize, 8388608)),
  };
}

/**
 * Each host owns points at xxHash64("ip:port_i") (Envoy's key scheme, top 53 bits kept), as many as
 * its weight allows; a request maps to the first point at or after its hash key, wrapping around.
 * Adding or removing one host only moves the keys that fall on that host's points.
 */
export class RingHashLoadBalancer implements LoadBalancer {
  /** Sorted point positions. */
  private points: Float64Array = new Float64Array(0);
  /** Owner of each point. */
  private owners: Host[] = [];

  constructor(readonly config: RingHashConfig) {}

  update(set: HostSet): void {
    const hosts = set.active;
    if (hosts.length === 0) {
      this.points = new Float64Array(0);
      this.owners = [];
      return;
    }
    // A host of the lowest weight gets minimumRingSize/4 points, heavier hosts proportionally more.
    // Unlike Envoy (whose per-host count is ring size / N), a host's points do not depend on how many
    // other hosts there are, so adding or removing one host moves only the keys of its own points.
    let minWeight = Infinity;
    let total = 0;
    for (const h of hosts) {
      minWeight = Math.min(minWeight, h.weight);
      total += h.weight;
    }
    let perUnit = Math.ceil(this.config.minimumRingSize / 4) / minWeight;
    if (perUnit * total > this.config.maximumRingSize) perUnit = this.config.maximumRingSize / total;
    let count = 0;
    for (const h of hosts) count += Math.max(1, Math.round(perUnit * h.weight));
    const pos = new Float64Array(count);
    const own: Host[] = [];
    let n = 0;
    for (const h of hosts) {
      const points = Math.max(1, Math.round(perUnit * h.weight));
      for (let i = 0; i < points; i++, n++) {
        pos[n] = hash53(`${h.key}_${i}`);
        own.push(h);
      }
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => pos[a] - pos[b] || (own[a].key < own[b].key ? -1 : 1));
    this.points = new Float64Array(n);
    this.owners = new Array<Host>(n);
    for (let i = 0; i < n; i++) {
      this.points[i] = pos[order[i]];
      this.owners[i] = own[order[i]];
    }
  }

  /** Number of points on the ring. */
  get size(): number {
    return this.points.length;
  }

  pick(ctx: LbContext): Host | null {
    const n = this.points.length;
    if (n === 0) return null;
    const key = ctx.hash !== undefined && ctx.hash >= 0 ? ctx.hash : randomHash();
    const at = this.lowerBound(key);
    let h = this.owners[at];
    // A retry behaves as if the tried host's point were not on the ring: walk to the next points.
    for (let i = 1; i <= HOST_SELECTION_RETRIES && wasTried(ctx, h); i++) h = this.owners[(at + i) % n];
    return h;
  }

  /** Index of the first point >= key (0 when key is past the last point). */
  private lowerBound(key: number): number {
    const p = this.points;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo === p.length ? 0 : lo;
  }
}
