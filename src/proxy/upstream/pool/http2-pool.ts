// HTTP/2 pool for one host: multiplexed sessions, each carrying up to max_concurrent_streams streams
// (and max_requests_per_connection streams in total); more sessions are opened as the circuit breaker
// allows, otherwise requests wait in the pending queue. Sessions are re-opened on close or GOAWAY.
import { upstreamPrincipals } from './upstream-principals.js';
import { admitRequest, cancelPending } from './admission.js';
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { Socket } from 'node:net';
import { Acquire, type ClientH2Result, type ConnPool, type PoolWaiter } from './conn-pool.js';
import { openConnection, wasConnected, type ConnectionContext } from './connection.js';

/** One HTTP/2 connection and its stream counts. */
class H2Conn {
  /** Streams open now. */
  active = 0;
  /** Streams ever opened. */
  total = 0;
  /** Takes no new stream (request limit, max duration, GOAWAY or closed). */
  retiring = false;
  socket: Socket | null = null;

  constructor(
    readonly session: ClientHttp2Session,
    private readonly pool: Http2Pool,
  ) {}

  /** Stream closed: close a retiring session once idle. */
  streamClosed(): void {
    this.active--;
    if (this.retiring && this.active === 0) this.session.close();
    this.pool.dispatchPending();
  }
}

const CONN = Symbol('mizzen.h2conn');

/** A stream that knows its session (to count it closed). */
type TrackedStream = ClientHttp2Stream & { [CONN]?: H2Conn };

function onStreamClose(this: ClientHttp2Stream): void {
  const c = (this as TrackedStream)[CONN];
  if (c !== undefined) c.streamClosed();
}

/** HTTP/2 (h2c or TLS) sessions to one host. */
export class Http2Pool implements ConnPool {
  readonly protocol = 'http2' as const;
  private conns: H2Conn[] = [];
  private busy = 0;
  private draining = false;
  private readonly pending: PoolWaiter[] = [];

  constructor(readonly ctx: ConnectionContext) {}

  acquire(w: PoolWaiter): Acquire {
    const r = admitRequest(this.ctx, this.pending, w, this.hasCapacity());
    if (r === Acquire.Ready) this.take();
    return r;
  }

  cancel(w: PoolWaiter): void {
    cancelPending(this.ctx, this.pending, w);
  }

  release(): void {
    this.busy--;
    this.ctx.breaker.requestFinished();
    if (this.draining && this.busy === 0) for (const c of this.conns) c.session.close();
  }

  dispatchH1(): never {
    throw new Error('HTTP/2 pool cannot send HTTP/1.1 requests');
  }

  requestH2(headers: OutgoingHttpHeaders, endStream: boolean): ClientH2Result {
    const c = this.connFor();
    const sock = c.socket;
    const stream = c.session.request(headers, { endStream });
    c.active++;
    c.total++;
    const max = this.ctx.options.maxRequestsPerConnection;
    if (max > 0 && c.total >= max) c.retiring = true;
    (stream as TrackedStream)[CONN] = c;
    stream.once('close', onStreamClose);
    return { stream, connected: () => wasConnected(sock), principals: () => upstreamPrincipals(sock) };
  }

  drain(): void {
    this.draining = true;
    if (this.busy === 0) for (const c of this.conns) c.session.close();
  }

  /** Starts queued requests while a session has room or a new one may be opened. */
  dispatchPending(): void {
    while (
      this.pending.length > 0 &&
      this.ctx.breaker.canRequest() &&
      (this.hasCapacity() || this.ctx.breaker.canConnect())
    ) {
      const w = this.pending.shift()!;
      this.ctx.breaker.pendingRemoved();
      this.ctx.stats.upstream_rq_pending_active.dec();
      this.take();
      w.onPoolReady();
    }
  }

  private take(): void {
    this.busy++;
    this.ctx.breaker.requestStarted();
  }

  /** True when an open session can take one more stream beyond those already promised. */
  private hasCapacity(): boolean {
    let room = 0;
    const max = this.ctx.options.maxConcurrentStreams;
    for (const c of this.conns) if (!c.retiring && !c.session.closed) room += max - c.active;
    // `busy` counts granted requests; those not yet on a stream still need room.
    let onStreams = 0;
    for (const c of this.conns) onStreams += c.active;
    return room - (this.busy - onStreams) > 0;
  }

  /** A session with room for a stream, opening one when none has. */
  private connFor(): H2Conn {
    const max = this.ctx.options.maxConcurrentStreams;
    for (const c of this.conns)
      if (!c.retiring && !c.session.closed && !c.session.destroyed && c.active < max) return c;
    return this.open();
  }

  private open(): H2Conn {
    const { host } = this.ctx;
    let sock: Socket | null = null;
    // createConnection supplies the (TLS or plain) socket; the URL only names the authority.
    const session = connect(`http://${host.key}`, {
      createConnection: () => (sock = openConnection(this.ctx, true, null)),
      settings: { enablePush: false },
    });
    const c = new H2Conn(session, this);
    c.socket = sock;
    // A session error also errors its streams; the router classifies it there.
    session.on('error', () => {});
    const forget = (): void => {
      c.retiring = true;
      const i = this.conns.indexOf(c);
      if (i >= 0) this.conns.splice(i, 1);
      this.dispatchPending();
    };
    session.once('close', forget);
    session.once('goaway', () => (c.retiring = true));
    const idle = this.ctx.options.idleTimeoutMs;
    if (idle > 0) session.setTimeout(idle, () => c.active === 0 && session.close());
    const maxMs = this.ctx.options.maxConnectionDurationMs;
    if (maxMs > 0) {
      const t = setTimeout(() => {
        c.retiring = true;
        if (c.active === 0) session.close();
      }, maxMs);
      t.unref();
      session.once('close', () => clearTimeout(t));
    }
    this.keepalive(c);
    this.conns.push(c);
    return c;
  }

  /** connection_keepalive: PINGs every interval (with jitter); an unanswered one destroys the session. */
  private keepalive(c: H2Conn): void {
    const ka = this.ctx.options.h2Keepalive;
    if (ka === null) return;
    const session = c.session;
    let timer: NodeJS.Timeout | null = null;
    const schedule = (): void => {
      const ms = ka.intervalMs * (1 + (Math.random() * ka.jitterPercent) / 100);
      timer = setTimeout(ping, ms);
      timer.unref();
    };
    const ping = (): void => {
      if (session.closed || session.destroyed) return;
      const dead = setTimeout(() => {
        c.retiring = true;
        session.destroy(new Error('HTTP/2 keepalive: PING not answered'));
      }, ka.timeoutMs);
      dead.unref();
      timer = dead;
      const sent = session.ping((err) => {
        clearTimeout(dead);
        if (!err) schedule();
      });
      if (!sent) {
        clearTimeout(dead);
        schedule();
      }
    };
    session.once('connect', schedule);
    session.once('close', () => {
      if (timer !== null) clearTimeout(timer);
    });
  }
}
