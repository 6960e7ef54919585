// HTTP/1.1 keep-alive pool for one host on undici's low-level Client (one Client per upstream connection,
// no pipelining): connections are counted and circuit-broken, requests wait in Envoy's pending queue when
// max_connections is reached, and the cluster's per-connection limits apply (max requests per connection,
// idle timeout, max duration). The connection object is itself undici's dispatch handler, so a request
// allocates no closures or timers here.
import { NO_PRINCIPALS, upstreamPrincipals, type UpstreamPrincipals } from './upstream-principals.js';
import type { Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { buildConnector, Client as UndiciClient } from 'undici';
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
import { openConnection, type ConnectionContext } from './connection.js';

/**
 * undici's Client alone: its package index also loads fetch, WebSocket, caches and mocks (about 2.5× the
 * load time and 8 MiB more RSS, measured with `require` on this machine), none of which the proxy uses.
 */
const Client = createRequire(import.meta.url)('undici/lib/dispatcher/client.js') as typeof UndiciClient;

/** The largest delay Node's timers take (about 24.8 days): "no idle timeout". */
const MAX_TIMER_MS = 2_147_483_647;

/** Error an aborted exchange is failed with (the caller already decided; nobody reads it). */
const ABORTED = Object.assign(new Error('upstream request reset by the proxy'), { code: 'ECANCELED' });

type ConnectCallback = buildConnector.Callback;

/** One upstream connection: an undici Client (pipelining 1) plus its counters; undici's handler for its request. */
class H1Connection implements H1Stream {
  readonly client: UndiciClient;
  private socket: Socket | null = null;
  /** Requests this connection has been given. */
  uses = 0;
  /** Takes no further request (request limit or max duration reached). */
  retiring = false;
  /** Its socket closed (or left for an upgrade): never reused. */
  closed = false;
  connected = false;
  reused = false;
  localAddress: string | null = null;
  principals: UpstreamPrincipals = NO_PRINCIPALS;
  /** The exchange in flight, or null when idle. */
  private x: H1Exchange | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private paused = false;
  private maxTimer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: Http1Pool) {
    const idle = pool.ctx.options.idleTimeoutMs > 0 ? pool.ctx.options.idleTimeoutMs : MAX_TIMER_MS;
    this.client = new Client(pool.origin, {
      connect: (_opts: unknown, cb: ConnectCallback) => this.connectSocket(cb),
      pipelining: 1,
      // The route's timeout and the per-try timeout govern requests; undici's own timers stay off.
      headersTimeout: 0,
      bodyTimeout: 0,
      // Idle timeout (Istio's default 1 h); a server's `Keep-Alive: timeout=N` hint shortens it by 1 s, as Node's Agent.
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: idle,
      keepAliveTimeoutThreshold: 1000,
    });
    // undici reports a throwing handler as a Client 'error'; ours never throw, but the process must not die.
    (this.client as unknown as EventEmitter).on('error', ignore);
  }

  /** undici's connector: a counted connection with the cluster's connect timeout (and TLS). */
  private connectSocket(cb: ConnectCallback): void {
    const pool = this.pool;
    pool.sockets++;
    const sock = openConnection(pool.ctx, false, () => this.onSocketClose());
    this.socket = sock;
    let called = false;
    const done = (err: Error | null): void => {
      if (called) return;
      called = true;
      sock.off(pool.ctx.tls ? 'secureConnect' : 'connect', onConnect);
      sock.off('error', done);
      sock.off('close', onEarlyClose);
      if (err === null) {
        this.connected = true;
        if (sock.localAddress) this.localAddress = `${sock.localAddress}:${sock.localPort}`;
        this.principals = upstreamPrincipals(sock);
        cb(null, sock);
      } else cb(err, null);
    };
    const onConnect = (): void => done(null);
    const onEarlyClose = (): void => done(Object.assign(new Error('socket closed'), { code: 'ECONNRESET' }));
    sock.once(pool.ctx.tls ? 'secureConnect' : 'connect', onConnect);
    sock.once('error', done);
    sock.once('close', onEarlyClose);
    const maxMs = pool.ctx.options.maxConnectionDurationMs;
    if (maxMs > 0) {
      this.maxTimer = setTimeout(expireConnection, maxMs, this);
      this.maxTimer.unref();
    }
  }

  /** Sends `req` on this connection (the caller took it from the idle list or made it). */
  start(x: H1Exchange, req: H1Request): void {
    this.x = x;
    this.abortFn = null;
    this.resumeFn = null;
    this.paused = false;
    this.uses++;
    this.reused = this.uses > 1;
    const max = this.pool.ctx.options.maxRequestsPerConnection;
    if (max > 0 && this.uses >= max) this.pool.retire(this);
    // undici closes a connection after a HEAD (a misbehaving server may still send a body): it takes no
    // further request, or one dispatched in the same tick would die with it.
    if (req.method === 'HEAD') this.pool.retire(this);
    this.client.dispatch(
      { method: req.method, path: req.path, headers: req.headers, body: req.body, upgrade: req.upgrade },
      this,
    );
  }

  /** max_connection_duration reached: close now if idle, else once the current request ends. */
  expire(): void {
    this.maxTimer = null;
    this.pool.retire(this);
    if (this.x === null) this.close();
  }

  /** Closes the connection (its socket, then the Client). */
  close(): void {
    if (this.socket !== null && !this.socket.destroyed) this.socket.destroy();
    else this.client.destroy(ignore);
  }

  private onSocketClose(): void {
    this.closed = true;
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.maxTimer = null;
    this.pool.connClosed(this);
    // After undici's own 'close' listener failed the request in flight with the socket's error.
    queueMicrotask(() => this.client.destroy(ignore));
  }

  // ---- H1Stream (the caller's handle) ----

  abort(): void {
    if (this.x === null) return;
    this.x = null;
    this.paused = false;
    if (this.abortFn !== null) this.abortFn(ABORTED);
    else {
      // Not written yet (still connecting): the connection was made for this request alone.
      this.closed = true;
      this.client.destroy(ABORTED, ignore);
      if (this.socket !== null) this.socket.destroy();
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.resumeFn !== null) this.resumeFn();
  }

  // ---- undici's (legacy) dispatch handler ----

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational responses are not forwarded (as Node's 'information' was ignored before).
    if (status < 200) return true;
    // `connection: close`: undici closes the connection after this response; take no request on it.
    if (saysClose(raw)) this.pool.retire(this);
    this.resumeFn = resume;
    if (this.x !== null) this.x.onH1Head(status, raw, this);
    return !this.paused;
  }

  onData(chunk: Buffer): boolean {
    if (this.x !== null) this.x.onH1Data(chunk);
    return !this.paused;
  }

  onComplete(): void {
    const x = this.x;
    this.x = null;
    this.abortFn = null;
    this.resumeFn = null;
    this.pool.connFree(this);
    if (x !== null) x.onH1Complete();
  }

  onError(err: Error): void {
    const x = this.x;
    this.x = null;
    this.abortFn = null;
    this.resumeFn = null;
    // Rejected before anything was sent (invalid header or path): the connection itself is fine.
    const code = (err as NodeJS.ErrnoException).code;
    if (!this.closed && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED')) {
      if (this.socket !== null && !this.socket.destroyed) this.pool.connFree(this);
      else this.pool.connUnused(this);
    }
    if (x !== null) x.onH1Error(err, this);
  }

  onUpgrade(status: number, raw: Buffer[], socket: Socket): void {
    const x = this.x;
    this.x = null;
    // The socket leaves the pool for the tunnel; it is still counted until it closes.
    this.closed = true;
    this.pool.connDetached(this);
    if (x !== null) x.onH1Upgrade(status, raw, socket, this);
    else socket.destroy();
  }
}

/** True when a raw response head carries `connection: close`. */
function saysClose(raw: Buffer[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 10 && n.toString('latin1').toLowerCase() === 'connection')
      return /(?:^|[\s,])close(?:$|[\s,])/i.test(raw[i + 1].toString('latin1'));
  }
  return false;
}

function expireConnection(c: H1Connection): void {
  c.expire();
}

function ignore(): void {}

/** Keep-alive HTTP/1.1 connections to one host. */
export class Http1Pool implements ConnPool {
  readonly protocol = 'http1' as const;
  /** undici's origin for this host (the connector ignores it; requests carry their own `host`). */
  readonly origin: string;
  /** Connections currently open (or opening). */
  sockets = 0;
  /** Open connections that take no further request (they close when their request ends). */
  retiring = 0;
  /** Requests currently holding a connection. */
  busy = 0;
  /** Connections ready for a request, most recently used last (LIFO, as the Agent's scheduling was). */
  private readonly idle: H1Connection[] = [];
  private readonly pending: PoolWaiter[] = [];
  /** Every connection not yet closed (to close them on drain). */
  private readonly conns = new Set<H1Connection>();
  private draining = false;

  constructor(readonly ctx: ConnectionContext) {
    const a = ctx.host.address;
    this.origin = `http://${a.includes(':') ? `[${a}]` : a}:${ctx.host.port}`;
  }

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
      c = new H1Connection(this);
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
  retire(c: H1Connection): void {
    if (c.retiring || c.closed) return;
    c.retiring = true;
    this.retiring++;
  }

  /** `c` finished its request and may take another (or closes, if it retired or the pool drains). */
  connFree(c: H1Connection): void {
    if (c.closed) return;
    if (c.retiring || this.draining) c.close();
    else this.idle.push(c);
  }

  /** A connection that never opened a socket (its only request was rejected before sending). */
  connUnused(c: H1Connection): void {
    c.closed = true;
    this.conns.delete(c);
    c.client.destroy(ignore);
  }

  /** `c`'s socket left the pool for an upgraded tunnel (still counted until it closes). */
  connDetached(c: H1Connection): void {
    this.conns.delete(c);
  }

  /** `c`'s socket closed. */
  connClosed(c: H1Connection): void {
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
