// ROUND_ROBIN: Envoy's (weighted) round robin; equal weights rotate, unequal weights use smooth weighted RR.
import type { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import {
  HOST_SELECTION_RETRIES,
  untriedOr,
  wasTried,
  type LbContext,
  type LoadBalancer,
} from '../load-balancer.js';

/** Round-robin picker; starts at a random offset so many proxies do not hit the same first host. */
export class RoundRobinLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private next = 0;
  private uniform = true;
  /** Smooth weighted RR state (nginx's algorithm), only used when weights differ. */
  private current: Float64Array = new Float64Array(0);
  private totalWeight = 0;

  update(set: HostSet): void {
    this.hosts = set.active;
    this.uniform = set.uniformWeights;
    this.next = this.hosts.length > 0 ? Math.floor(Math.random() * this.hosts.length) : 0;
    this.current = new Float64Array(this.hosts.length);
    this.totalWeight = 0;
    for (const h of this.hosts) this.totalWeight += h.weight;
  }

  pick(ctx: LbContext): Host | null {
    const n = this.hosts.length;
    if (n === 0) return null;
    let h = this.one();
    for (let i = 0; i < HOST_SELECTION_RETRIES && n > 1 && wasTried(ctx, h); i++) h = this.one();
    return ctx.tried === null ? h : untriedOr(this.hosts, ctx, h);
  }

  private one(): Host {
    const n = this.hosts.length;
    if (this.uniform) {
      const h = this.hosts[this.next % n];
      this.next = (this.next + 1) % n;
      return h;
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i] += this.hosts[i].weight;
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.totalWeight;
    return this.hosts[best];
  }
}
