// RANDOM: uniform (or weight-proportional) random pick.
import type { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import {
  HOST_SELECTION_RETRIES,
  untriedOr,
  wasTried,
  type LbContext,
  type LoadBalancer,
} from '../load-balancer.js';

/** Random picker with weights via a precomputed cumulative table. */
export class RandomLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private cumulative: Float64Array = new Float64Array(0);
  private total = 0;

  update(set: HostSet): void {
    this.hosts = set.active;
    this.cumulative = new Float64Array(this.hosts.length);
    let sum = 0;
    this.hosts.forEach((h, i) => (this.cumulative[i] = sum += h.weight));
    this.total = sum;
  }

  pick(ctx: LbContext): Host | null {
    if (this.hosts.length === 0) return null;
    let h = this.one();
    for (let i = 0; i < HOST_SELECTION_RETRIES && this.hosts.length > 1 && wasTried(ctx, h); i++)
      h = this.one();
    return ctx.tried === null ? h : untriedOr(this.hosts, ctx, h);
  }

  private one(): Host {
    const r = Math.random() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return this.hosts[lo];
  }
}
