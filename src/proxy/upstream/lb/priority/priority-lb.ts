// The balancer every cluster uses: picks a priority level by Envoy's priority load, then (with
// locality-weighted LB) a locality by weight x availability, then lets the cluster's policy pick a
// host there. Slow start scales new hosts down by rejection. One level and locality: a direct call.
import type { Host } from '../../host.js';
import { HostSet, OVERPROVISIONING, type PriorityLevel } from '../../host-set.js';
import type { LbContext, LoadBalancer } from '../load-balancer.js';
import type { SlowStart } from '../slow-start/slow-start.js';

/** How the priority balancer is built for a cluster. */
export interface PriorityLbOptions {
  /** Makes one policy balancer (one per level, or per locality of a level). */
  readonly make: () => LoadBalancer;
  /** Ring hash / maglev: the level is chosen from the hash key and localities are not split. */
  readonly hashBased: boolean;
  /** `commonLbConfig.localityWeightedLbConfig` is set: split each level's load by locality weight. */
  readonly localityWeighted: boolean;
  /** Slow start (round robin / least request only), or null. */
  readonly slowStart: SlowStart | null;
}

/** How many times slow start may reject a warming host before accepting what was picked. */
const SLOW_START_TRIES = 4;

/** One level (or one locality of a level) and its policy balancer. */
interface Bucket {
  lb: LoadBalancer;
}

/** A level split by locality: cumulative effective locality weights and one bucket per locality. */
interface Level {
  buckets: Bucket[];
  /** Cumulative weights of `buckets`; null when the level is not split. */
  cumulative: Float64Array | null;
  total: number;
}

/** Priority / locality selection in front of a policy balancer. */
export class PriorityLoadBalancer implements LoadBalancer {
  /** The only bucket when there is one level and no locality split (the common case), else null. */
  private single: LoadBalancer | null = null;
  private levels: Level[] = [];
  /** Cumulative level loads (percent). */
  private cumLoad: Float64Array = new Float64Array(0);
  private pool: LoadBalancer[] = [];
  private used = 0;

  constructor(private readonly opts: PriorityLbOptions) {}

  update(set: HostSet): void {
    this.used = 0;
    const lv = set.levels;
    this.levels = [];
    this.cumLoad = new Float64Array(lv.length);
    let acc = 0;
    for (let i = 0; i < lv.length; i++) {
      acc += lv[i].load;
      this.cumLoad[i] = acc;
      this.levels.push(this.buildLevel(lv[i]));
    }
    const only =
      this.levels.length === 1 && this.levels[0].cumulative === null ? this.levels[0].buckets[0] : null;
    this.single = only === null ? null : only.lb;
    if (this.levels.length === 0) this.single = this.bucket([]).lb;
  }

  pick(ctx: LbContext): Host | null {
    const ss = this.opts.slowStart;
    let h = this.pickOnce(ctx);
    if (ss === null || h === null) return h;
    for (let i = 0; i < SLOW_START_TRIES; i++) {
      const f = ss.factor(h!);
      if (f >= 1 || Math.random() < f) return h;
      h = this.pickOnce(ctx);
    }
    return h;
  }

  private pickOnce(ctx: LbContext): Host | null {
    if (this.single !== null) return this.single.pick(ctx);
    const n = this.cumLoad.length;
    if (n === 0) return null;
    const total = this.cumLoad[n - 1];
    const r =
      this.opts.hashBased && ctx.hash !== undefined && ctx.hash >= 0
        ? ((ctx.hash % 10007) / 10007) * total
        : Math.random() * total;
    let i = 0;
    while (i < n - 1 && this.cumLoad[i] <= r) i++;
    const level = this.levels[i];
    if (level.cumulative === null) return level.buckets[0].lb.pick(ctx);
    const c = level.cumulative;
    const x = Math.random() * level.total;
    let j = 0;
    while (j < c.length - 1 && c[j] <= x) j++;
    return level.buckets[j].lb.pick(ctx);
  }

  private buildLevel(l: PriorityLevel): Level {
    if (!this.opts.localityWeighted || this.opts.hashBased || l.panic)
      return { buckets: [this.bucket(l.pickable)], cumulative: null, total: 0 };
    // Group by locality, weight = locality weight x min(1, 1.4 x healthy/total).
    const groups = new Map<string, { all: number; healthy: Host[]; weight: number }>();
    for (const h of l.hosts) {
      const k = `${h.locality.region}/${h.locality.zone}/${h.locality.subZone}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { all: 0, healthy: [], weight: h.localityWeight }));
      g.all++;
      if (h.healthy) g.healthy.push(h);
    }
    const buckets: Bucket[] = [];
    const weights: number[] = [];
    for (const g of groups.values()) {
      const w = g.weight * Math.min(1, (OVERPROVISIONING * g.healthy.length) / g.all);
      if (w <= 0 || g.healthy.length === 0) continue;
      buckets.push(this.bucket(g.healthy));
      weights.push(w);
    }
    if (buckets.length <= 1) {
      this.used -= buckets.length;
      return { buckets: [this.bucket(l.pickable)], cumulative: null, total: 0 };
    }
    const cumulative = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((w, i) => (cumulative[i] = acc += w));
    return { buckets, cumulative, total: acc };
  }

  /** A policy balancer over `hosts`, reusing instances across updates. */
  private bucket(hosts: readonly Host[]): Bucket {
    let lb = this.pool[this.used];
    if (lb === undefined) {
      lb = this.opts.make();
      this.pool.push(lb);
    }
    this.used++;
    lb.update(HostSet.view(hosts));
    return { lb };
  }
}
