// HTTP/1.1 keep-alive pool for one host: a node:http Agent whose connections are counted and
// circuit-broken, with Envoy's pending-request queue when max_connections is reached, and the
// per-connection limits of the cluster (max requests per connection, idle timeout, max duration).
import { admitRequest, cancelPending } from './admission.js';
import { Agent, request, type ClientRequest, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Acquire, type ClientH2Result, type ConnPool, type PoolWaiter } from './conn-pool.js';
import { openConnection, type ConnectionContext } from './connection.js';

/** Requests a socket has carried. */
const USES = Symbol('mizzen.uses');
/** Set once a socket may take no further request (request limit or max duration reached). */
const RETIRING = Symbol('mizzen.retiring');

/** A pooled socket: its request count, whether it takes no more requests, and Node's current request. */
type PooledSocket = Socket & { [USES]?: number; [RETIRING]?: boolean; _httpMessage?: unknown };

class PoolAgent extends Agent {
  constructor(private readonly pool: Http1Pool) {
    // Idle timeout: Istio's default is 1 h; Node also honours the server's Keep-Alive hint.
    super({
      keepAlive: true,
      maxSockets: Infinity,
      maxFreeSockets: 256,
      scheduling: 'lifo',
      timeout: pool.ctx.options.idleTimeoutMs > 0 ? pool.ctx.options.idleTimeoutMs : undefined,
    });
  }

  override createConnection(): Duplex {
    return this.pool.connect();
  }

  override reuseSocket(socket: Socket, req: ClientRequest): void {
    this.pool.used(socket);
    super.reuseSocket(socket, req);
  }

  override keepSocketAlive(socket: Socket): boolean {
    if ((socket as PooledSocket)[RETIRING] === true) return false;
    // Node's default returns a boolean (its typings say void).
    const keep: unknown = super.keepSocketAlive(socket);
    return keep !== false;
  }
}

/** Keep-alive HTTP/1.1 connections to one host. */
export class Http1Pool implements ConnPool {
  readonly protocol = 'http1' as const;
  readonly agent: PoolAgent;
  /** Connections currently open. */
  sockets = 0;
  /** Open connections that take no further request (they close when their request ends). */
  retiring = 0;
  /** Requests currently holding a connection. */
  busy = 0;
  private readonly pending: PoolWaiter[] = [];
  private draining = false;

  constructor(readonly ctx: ConnectionContext) {
    this.agent = new PoolAgent(this);
    // A kept-alive socket became free (emitted a tick after the response ended): hand it to a waiter.
    this.agent.on('free', () => this.dispatchPending(false));
  }

  /** Opens a connection for the agent (its first request counts as one use). */
  connect(): Socket {
    this.sockets++;
    let sock: PooledSocket | null = null;
    const onClose = (): void => {
      this.sockets--;
      if (sock?.[RETIRING] === true) this.retiring--;
      this.dispatchPending(true);
      if (this.draining && this.busy === 0) this.agent.destroy();
    };
    sock = openConnection(this.ctx, false, onClose);
    sock[USES] = 0;
    this.used(sock);
    const maxMs = this.ctx.options.maxConnectionDurationMs;
    if (maxMs > 0) {
      const s = sock;
      const t = setTimeout(() => this.expire(s), maxMs);
      t.unref();
      s.once('close', () => clearTimeout(t));
    }
    return sock;
  }

  /** Counts one more request on `sock`; at max_requests_per_connection it retires. */
  used(sock: Socket): void {
    const n = ((sock as PooledSocket)[USES] ?? 0) + 1;
    (sock as PooledSocket)[USES] = n;
    const max = this.ctx.options.maxRequestsPerConnection;
    if (max > 0 && n >= max) this.retire(sock);
  }

  private retire(sock: Socket): void {
    if ((sock as PooledSocket)[RETIRING] === true) return;
    (sock as PooledSocket)[RETIRING] = true;
    this.retiring++;
  }

  /** max_connection_duration reached: close now if idle, else after the current request. */
  private expire(sock: Socket): void {
    this.retire(sock);
    if ((sock as PooledSocket)._httpMessage == null) sock.destroy();
  }

  acquire(w: PoolWaiter): Acquire {
    const r = admitRequest(this.ctx, this.pending, w, this.busy < this.sockets - this.retiring);
    if (r === Acquire.Ready) this.take();
    return r;
  }

  cancel(w: PoolWaiter): void {
    cancelPending(this.ctx, this.pending, w);
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
      ((!newOnly && this.busy < this.sockets - this.retiring) || this.ctx.breaker.canConnect())
    ) {
      const w = this.pending.shift()!;
      this.ctx.breaker.pendingRemoved();
      this.ctx.stats.upstream_rq_pending_active.dec();
      this.take();
      w.onPoolReady();
    }
  }
}
