// The load-balancer seam: every LB policy (one folder each under lb/) implements this interface.
import type { Host } from '../host.js';
import type { HostSet } from '../host-set.js';

/** Request attributes a policy may use (hash-based policies read these; RR/LR ignore them). */
export interface LbContext {
  /** Hosts already tried by this request (retry prefers a different host), or null. */
  readonly tried: readonly Host[] | null;
  /** Hash key (integer below 2^53) from the route's hash policy; absent or -1 when none (hash policies then pick at random). */
  readonly hash?: number;
  /** `ip:port` the downstream meant to reach, for ORIGINAL_DST clusters (PASSTHROUGH); absent or null when unknown. */
  readonly originalDst?: string | null;
}

/** Picks one host of a cluster for a request. One instance per cluster; rebuilt state on host changes. */
export interface LoadBalancer {
  /** Called when the cluster's host set changes; precompute what `pick` needs. */
  update(set: HostSet): void;
  /** A host from the current set, or null when there is none. Avoids `ctx.tried` when it can. */
  pick(ctx: LbContext): Host | null;
}

/** How many re-picks a policy makes to avoid previously tried hosts (Istio sets host_selection_retry_max_attempts 5). */
export const HOST_SELECTION_RETRIES = 5;

/** True when `h` is in the (small) tried list. */
export function wasTried(ctx: LbContext, h: Host): boolean {
  return ctx.tried !== null && ctx.tried.includes(h);
}

/**
 * After a policy's own re-picks still landed on a tried host: the first untried host from a random
 * offset (so a retry reaches a different host whenever one exists), else `picked`.
 */
export function untriedOr(hosts: readonly Host[], ctx: LbContext, picked: Host): Host {
  if (!wasTried(ctx, picked)) return picked;
  const n = hosts.length;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const h = hosts[(start + i) % n];
    if (!wasTried(ctx, h)) return h;
  }
  return picked;
}
