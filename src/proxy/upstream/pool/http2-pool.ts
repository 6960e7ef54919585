// HTTP/2 pool for one host: one multiplexed session (re-opened when it closes or receives GOAWAY).
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { Acquire, type ClientH2Result, type ConnPool, type PoolWaiter } from './conn-pool.js';
import { openConnection, wasConnected, type ConnectionContext } from './connection.js';
import type { Socket } from 'node:net';

/** One HTTP/2 (h2c) session per host; max_requests bounds concurrent streams. */
export class Http2Pool implements ConnPool {
  readonly protocol = 'http2' as const;
  private session: ClientHttp2Session | null = null;
  private socket: Socket | null = null;
  private busy = 0;
  private draining = false;

  constructor(readonly ctx: ConnectionContext) {}

  acquire(_w: PoolWaiter): Acquire {
    if (!this.ctx.breaker.canRequest()) {
      this.ctx.stats.upstream_rq_pending_overflow.inc();
      return Acquire.Overflow;
    }
    this.busy++;
    this.ctx.breaker.requestStarted();
    return Acquire.Ready;
  }

  cancel(_w: PoolWaiter): void {}

  release(): void {
    this.busy--;
    this.ctx.breaker.requestFinished();
    if (this.draining && this.busy === 0) this.session?.close();
  }

  requestH1(): never {
    throw new Error('HTTP/2 pool cannot send HTTP/1.1 requests');
  }

  requestH2(headers: OutgoingHttpHeaders, endStream: boolean): ClientH2Result {
    const session = this.currentSession();
    const sock = this.socket;
    const stream = session.request(headers, { endStream });
    return { stream, connected: () => wasConnected(sock) };
  }

  drain(): void {
    this.draining = true;
    if (this.busy === 0) this.session?.close();
  }

  private currentSession(): ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const { host } = this.ctx;
    let sock: Socket | null = null;
    const session = connect(`http://${host.key}`, {
      createConnection: () => (sock = openConnection(this.ctx, true, null)),
      settings: { enablePush: false },
    });
    this.socket = sock;
    // A session error also errors its streams; the router classifies it there.
    session.on('error', () => {});
    const forget = (): void => {
      if (this.session === session) {
        this.session = null;
        this.socket = null;
      }
    };
    session.once('close', forget);
    session.once('goaway', forget);
    this.session = session;
    return session;
  }
}
