// Envoy's admission of a request to a host's pool: circuit-breaker limits, then a connection or the pending queue.
import { Acquire, type PoolWaiter } from './conn-pool.js';
import type { ConnectionContext } from './connection.js';

/**
 * Decides what happens to a new request: Overflow when max_requests is reached; Ready when a
 * connection has room (`hasRoom`) or a new one may be opened (the caller then takes it); else Queued
 * on `pending` if max_pending_requests allows, Overflow otherwise. Counts Envoy's overflow stats.
 */
export function admitRequest(
  ctx: ConnectionContext,
  pending: PoolWaiter[],
  w: PoolWaiter,
  hasRoom: boolean,
): Acquire {
  const { breaker, stats } = ctx;
  if (!breaker.canRequest()) {
    stats.upstream_rq_pending_overflow.inc();
    return Acquire.Overflow;
  }
  if (hasRoom || breaker.canConnect()) return Acquire.Ready;
  stats.upstream_cx_overflow.inc();
  if (!breaker.canQueue()) {
    stats.upstream_rq_pending_overflow.inc();
    return Acquire.Overflow;
  }
  breaker.pendingAdded();
  stats.upstream_rq_pending_total.inc();
  stats.upstream_rq_pending_active.inc();
  pending.push(w);
  return Acquire.Queued;
}

/** Removes a queued waiter that gave up (timeout, client gone), releasing its pending slot. */
export function cancelPending(ctx: ConnectionContext, pending: PoolWaiter[], w: PoolWaiter): void {
  const i = pending.indexOf(w);
  if (i >= 0) {
    pending.splice(i, 1);
    ctx.breaker.pendingRemoved();
    ctx.stats.upstream_rq_pending_active.dec();
  }
}
