// HTTP/1.1 keep-alive pool for one host: a node:http Agent whose connections are counted and
// circuit-broken, with Envoy's pending-request queue when max_connections is reached.
import { Agent, request, type ClientRequest, type RequestOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { Acquire, type ClientH2Result, type ConnPool, type PoolWaiter } from './conn-pool.js';
import { openConnection, type ConnectionContext } from './connection.js';

class PoolAgent extends Agent {
  constructor(private readonly pool: Http1Pool) {
    // Istio's default upstream idle timeout is 1 h; Node also honours the server's Keep-Alive hint.
    super({
      keepAlive: true,
      maxSockets: Infinity,
      maxFreeSockets: 256,
      scheduling: 'lifo',
      timeout: 3_600_000,
    });
  }
  override createConnection(): Duplex {
    this.pool.sockets++;
    return openConnection(this.pool.ctx, false, this.pool.onSocketClose);
  }
}

/** Keep-alive HTTP/1.1 connections to one host. */
export class Http1Pool implements ConnPool {
  readonly protocol = 'http1' as const;
  readonly agent: PoolAgent;
  /** Connections currently open. */
  sockets = 0;
  /** Requests currently holding a connection. */
  busy = 0;
  private readonly pending: PoolWaiter[] = [];
  private draining = false;
  /** Bound once: runs when any pooled connection closes. */
  readonly onSocketClose: () => void;

  constructor(readonly ctx: ConnectionContext) {
    this.agent = new PoolAgent(this);
    // A kept-alive socket became free (emitted a tick after the response ended): hand it to a waiter.
    this.agent.on('free', () => this.dispatchPending(false));
    this.onSocketClose = () => {
      this.sockets--;
      this.dispatchPending(true);
      if (this.draining && this.busy === 0) this.agent.destroy();
    };
  }

  acquire(w: PoolWaiter): Acquire {
    const { breaker, stats } = this.ctx;
    if (!breaker.canRequest()) {
      stats.upstream_rq_pending_overflow.inc();
      return Acquire.Overflow;
    }
    if (this.busy < this.sockets || breaker.canConnect()) {
      this.take();
      return Acquire.Ready;
    }
    stats.upstream_cx_overflow.inc();
    if (!breaker.canQueue()) {
      stats.upstream_rq_pending_overflow.inc();
      return Acquire.Overflow;
    }
    breaker.pendingAdded();
    stats.upstream_rq_pending_total.inc();
    stats.upstream_rq_pending_active.inc();
    this.pending.push(w);
    return Acquire.Queued;
  }

  cancel(w: PoolWaiter): void {
    const i = this.pending.indexOf(w);
    if (i >= 0) {
      this.pending.splice(i, 1);
      this.ctx.breaker.pendingRemoved();
      this.ctx.stats.upstream_rq_pending_active.dec();
    }
  }

  release(): void {
    this.busy--;
    this.ctx.breaker.requestFinished();
    // The socket is not back in the agent's free list yet; only a new connection can serve a waiter now.
    this.dispatchPending(true);
    if (this.draining && this.busy === 0) this.agent.destroy();
  }

  requestH1(opts: RequestOptions): ClientRequest {
    opts.agent = this.agent;
    opts.host = this.ctx.host.address;
    opts.port = this.ctx.host.port;
    return request(opts);
  }

  requestH2(): ClientH2Result {
    throw new Error('HTTP/1.1 pool cannot open HTTP/2 streams');
  }

  drain(): void {
    this.draining = true;
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
    if (this.busy === 0) this.agent.destroy();
  }

  private take(): void {
    this.busy++;
    this.ctx.breaker.requestStarted();
  }

  /** Starts queued requests while capacity allows; `newOnly`: only if a new connection may be opened. */
  private dispatchPending(newOnly: boolean): void {
    while (
      this.pending.length > 0 &&
      this.ctx.breaker.canRequest() &&
      ((!newOnly && this.busy < this.sockets) || this.ctx.breaker.canConnect())
    ) {
      const w = this.pending.shift()!;
      this.ctx.breaker.pendingRemoved();
      this.ctx.stats.upstream_rq_pending_active.dec();
      this.take();
      w.onPoolReady();
    }
  }
}
