// HTTP/1.1 keep-alive pool for one host (one request per connection at a time, no pipelining):
// connections are counted and circuit-broken, requests wait in Envoy's pending queue when
// max_connections is reached, and the cluster's per-connection limits apply (max requests per connection,
// idle timeout, max duration). Each connection is its own client codec (h1-client-connection.ts).
import { admitRequest, cancelPending } from './admission.js';
import {
  Acquire,
  type ClientH2Result,
  type ConnPool,
  type H1Exchange,
  type H1Request,
  type H1Stream,
  type PoolWaiter,
} from './conn-pool.js';
import type { ConnectionContext } from './connection.js';
import { H1ClientConnection, type H1ConnectionOwner } from './h1-client-connection.js';

/** Keep-alive HTTP/1.1 connections to one host. */
export class Http1Pool implements ConnPool, H1ConnectionOwner {
  readonly protocol = 'http1' as const;
  /** Connections currently open (or opening). */
  sockets = 0;
  /** Open connections that take no further request (they close when their request ends). */
  retiring = 0;
  /** Requests currently holding a connection. */
  busy = 0;
  /** Connections ready for a request, most recently used last (LIFO, as the Agent's scheduling was). */
  private readonly idle: H1ClientConnection[] = [];
  private readonly pending: PoolWaiter[] = [];
  /** Every connection not yet closed (to close them on drain). */
  private readonly conns = new Set<H1ClientConnection>();
  private draining = false;

  constructor(readonly ctx: ConnectionContext) {}

  acquire(w: PoolWaiter): Acquire {
    const r = admitRequest(this.ctx, this.pending, w, this.idle.length > 0);
    if (r === Acquire.Ready) this.take();
    return r;
  }

  cancel(w: PoolWaiter): void {
    cancelPending(this.ctx, this.pending, w);
  }

  release(): void {
    this.busy--;
    this.ctx.breaker.requestFinished();
    this.dispatchPending();
    if (this.draining && this.busy === 0) this.closeAll();
  }

  dispatchH1(x: H1Exchange, req: H1Request): H1Stream {
    let c = this.idle.pop();
    while (c !== undefined && (c.closed || c.retiring)) c = this.idle.pop();
    if (c === undefined) {
      c = new H1ClientConnection(this);
      this.conns.add(c);
    }
    c.start(x, req);
    return c;
  }

  requestH2(): ClientH2Result {
    throw new Error('HTTP/1.1 pool cannot open HTTP/2 streams');
  }

  drain(): void {
    this.draining = true;
    for (const c of this.idle) c.close();
    this.idle.length = 0;
    if (this.busy === 0) this.closeAll();
  }

  /** Marks `c` as taking no further request. */
  retire(c: H1ClientConnection): void {
    if (c.retiring || c.closed) return;
    c.retiring = true;
    this.retiring++;
  }

  /** `c` finished its request and may take another (or closes, if it retired or the pool drains). */
  connFree(c: H1ClientConnection): void {
    if (c.closed) return;
    if (c.retiring || this.draining) c.close();
    else {
      this.idle.push(c);
      c.parked();
    }
  }

  /** A connection that never opened a socket (its only request was rejected before sending). */
  connUnused(c: H1ClientConnection): void {
    c.closed = true;
    this.conns.delete(c);
  }

  /** `c`'s socket left the pool for an upgraded tunnel (still counted until it closes). */
  connDetached(c: H1ClientConnection): void {
    this.conns.delete(c);
  }

  /** `c`'s socket closed. */
  connClosed(c: H1ClientConnection): void {
    this.sockets--;
    if (c.retiring) this.retiring--;
    this.conns.delete(c);
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    this.dispatchPending();
  }

  private closeAll(): void {
    for (const c of [...this.conns]) c.close();
  }

  private take(): void {
    this.busy++;
    this.ctx.breaker.requestStarted();
  }

  /** Starts queued requests while a connection is idle or a new one may be opened. */
  private dispatchPending(): void {
    while (
      this.pending.length > 0 &&
      this.ctx.breaker.canRequest() &&
      (this.idle.length > 0 || this.ctx.breaker.canConnect())
    ) {
      const w = this.pending.shift()!;
      this.ctx.breaker.pendingRemoved();
      this.ctx.stats.upstream_rq_pending_active.dec();
      this.take();
      w.onPoolReady();
    }
  }
}
