// LEAST_REQUEST (Istio's default): Envoy's power-of-two-choices over active request counts.
import type { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import {
  HOST_SELECTION_RETRIES,
  untriedOr,
  wasTried,
  type LbContext,
  type LoadBalancer,
} from '../load-balancer.js';

/**
 * Equal weights: picks `choiceCount` (default 2) random hosts and keeps the one with the fewest active
 * requests. Unequal weights: Envoy's weighted variant, a deadline (smooth weighted round-robin)
 * schedule over weight / (active requests + 1), so traffic follows weights and shifts away from busy hosts.
 */
export class LeastRequestLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private uniform = true;
  /** Smooth weighted RR state, used when weights differ. */
  private current: Float64Array = new Float64Array(0);

  constructor(private readonly choiceCount: number = 2) {}

  update(set: HostSet): void {
    this.hosts = set.active;
    this.uniform = set.uniformWeights;
    this.current = new Float64Array(this.hosts.length);
  }

  pick(ctx: LbContext): Host | null {
    const n = this.hosts.length;
    if (n === 0) return null;
    if (n === 1) return this.hosts[0];
    let h = this.one();
    for (let i = 0; i < HOST_SELECTION_RETRIES && wasTried(ctx, h); i++) h = this.one();
    return ctx.tried === null ? h : untriedOr(this.hosts, ctx, h);
  }

  private one(): Host {
    const n = this.hosts.length;
    if (!this.uniform) return this.weighted();
    let best = this.hosts[Math.floor(Math.random() * n)];
    for (let i = 1; i < this.choiceCount; i++) {
      const c = this.hosts[Math.floor(Math.random() * n)];
      if (this.load(c) < this.load(best)) best = c;
    }
    return best;
  }

  private load(h: Host): number {
    return h.rqActive;
  }

  /** One step of smooth weighted round robin over the hosts' effective weights. */
  private weighted(): Host {
    const hosts = this.hosts;
    const cur = this.current;
    let total = 0;
    let best = 0;
    for (let i = 0; i < hosts.length; i++) {
      const w = hosts[i].weight / (hosts[i].rqActive + 1);
      total += w;
      cur[i] += w;
      if (cur[i] > cur[best]) best = i;
    }
    cur[best] -= total;
    return hosts[best];
  }
}
