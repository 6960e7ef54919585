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
 * Picks `choiceCount` (default 2) random hosts and keeps the one with the fewest active requests.
 * With unequal weights it divides active requests by weight (Envoy's weighted variant, bias 1).
 */
export class LeastRequestLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private uniform = true;

  constructor(private readonly choiceCount: number = 2) {}

  update(set: HostSet): void {
    this.hosts = set.active;
    this.uniform = set.uniformWeights;
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
    let best = this.hosts[Math.floor(Math.random() * n)];
    for (let i = 1; i < this.choiceCount; i++) {
      const c = this.hosts[Math.floor(Math.random() * n)];
      if (this.load(c) < this.load(best)) best = c;
    }
    return best;
  }

  private load(h: Host): number {
    return this.uniform ? h.rqActive : (h.rqActive + 1) / h.weight;
  }
}
