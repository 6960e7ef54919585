// One coarse timer per HCM that enforces the per-connection and header-phase timeouts (Envoy's
// request_headers_timeout, stream_idle_timeout before the headers are in, idle_timeout) and
// request_timeout, instead of a timer per connection or request.
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { ActiveRequest } from '../active-request.js';
import type { H1Downstream } from '../downstream/h1-downstream.js';
import type { AccessLog } from '../access-log/access-log.js';
import type { ConnectionInfo } from '../active-request.js';
import { ProxyErrorCode, rescue } from '../local-reply.js';
import type { HcmStats } from './hcm-stats.js';
import { logHeaderPhaseReply } from './header-phase-log.js';

/** Per-connection bookkeeping (one object per downstream connection). */
export class ConnState {
  /** The HTTP/1.1 response in progress, if any (so draining can mark it `connection: close`). */
  current: H1Downstream | null = null;
  closeAfter = false;
  session: Http2Session | null = null;
  /** Streams (HTTP/1.1: the request in progress) open on the connection. */
  streams = 0;
  /** When the connection last had no stream (ms since epoch). */
  idleSince: number;
  /** HTTP/1.1: socket.bytesRead when the last request ended; more means the next headers started. */
  bytesMark = 0;
  /** HTTP/1.1: when the bytes of the next request's headers were first seen (0 = none yet). */
  headersSince = 0;
  /** Set once a timer closed the connection. */
  expired = false;

  constructor(
    readonly socket: Socket,
    readonly http2: boolean,
    now: number,
    /** Addresses and SNI for the access log of a reply made before any request exists. */
    readonly info: ConnectionInfo | undefined = undefined,
  ) {
    this.idleSince = now;
    // The first bytes arrived with the connection (protocol sniffing has already read them).
    if (!http2) this.headersSince = now;
  }

  /** A request's headers are complete (HTTP/1.1) or a stream opened (HTTP/2). */
  streamStarted(): void {
    this.streams++;
    this.headersSince = 0;
  }

  /** A stream ended; the connection may now be idle and (HTTP/1.1) waits for the next headers. */
  streamEnded(now: number): void {
    if (this.streams > 0) this.streams--;
    if (this.streams === 0) {
      this.idleSince = now;
      this.bytesMark = this.socket.bytesRead;
      this.headersSince = 0;
    }
  }
}

/** What the timers need from their HCM. */
export interface TimerLimits {
  readonly requestHeadersTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

const RAW_408 = (body: string): string =>
  `HTTP/1.1 408 Request Timeout\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`;

/** The coarse sweeper of one HCM. Runs only while the HCM has connections. */
export class ConnectionTimers {
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  /** Requests whose request_timeout is still armed (body not yet complete, no response yet). */
  private readonly pendingRequests = new Set<ActiveRequest>();

  constructor(
    private readonly limits: TimerLimits,
    private readonly stats: HcmStats,
    private readonly conns: ReadonlySet<ConnState>,
    /** The HCM's access logs: header-phase 408s are logged like other local replies. */
    private readonly accessLogs: readonly AccessLog[] | null = null,
  ) {
    const ts = [
      limits.requestHeadersTimeoutMs,
      limits.streamIdleTimeoutMs,
      limits.idleTimeoutMs,
      limits.requestTimeoutMs,
    ].filter((t) => t > 0);
    // A quarter of the shortest timeout, between 20 ms and 1 s: a timeout fires at most 25 % late.
    this.tickMs = ts.length === 0 ? 0 : Math.min(1000, Math.max(20, Math.floor(Math.min(...ts) / 4)));
  }

  /** True when request_timeout is configured (the HCM then registers requests with a body). */
  get tracksRequests(): boolean {
    return this.limits.requestTimeoutMs > 0;
  }

  /** A connection was added: make sure the sweeper runs. */
  connectionAdded(): void {
    if (this.timer === null && this.tickMs > 0) {
      this.timer = setInterval(sweep, this.tickMs, this);
      this.timer.unref();
    }
  }

  /** Arms request_timeout for a request whose body is still to come. */
  watchRequest(req: ActiveRequest): void {
    this.pendingRequests.add(req);
  }

  /** Stops the sweeper (HCM closed). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.pendingRequests.clear();
  }

  /** One pass over the connections and armed requests. */
  tick(): void {
    if (this.conns.size === 0 && this.pendingRequests.size === 0) {
      this.stop();
      return;
    }
    const now = Date.now();
    for (const c of this.conns) if (!c.expired) this.checkConnection(c, now);
    if (this.pendingRequests.size > 0) this.checkRequests(now);
  }

  private checkConnection(c: ConnState, now: number): void {
    const l = this.limits;
    if (c.streams > 0) return;
    if (!c.http2) {
      if (c.headersSince === 0 && c.socket.bytesRead > c.bytesMark) c.headersSince = now;
      if (c.headersSince > 0) {
        const waited = now - c.headersSince;
        if (l.requestHeadersTimeoutMs > 0 && waited >= l.requestHeadersTimeoutMs) {
          this.stats.downstream_rq_header_timeout.inc();
          this.expire(c, ProxyErrorCode.RequestHeaderTimeout, now);
          return;
        }
        // Envoy's stream exists from the first header byte, so its idle timer covers the header phase.
        if (l.streamIdleTimeoutMs > 0 && waited >= l.streamIdleTimeoutMs) {
          this.stats.downstream_rq_idle_timeout.inc();
          this.expire(c, ProxyErrorCode.StreamIdleTimeout, now);
          return;
        }
        return;
      }
    }
    if (l.idleTimeoutMs > 0 && now - c.idleSince >= l.idleTimeoutMs) {
      this.stats.downstream_cx_idle_timeout.inc();
      c.expired = true;
      if (c.session !== null) {
        if (!c.session.closed) c.session.goaway();
        c.session.close();
      } else c.socket.destroy();
    }
  }

  /** Answers an unfinished HTTP/1.1 request head with 408, logs it, and closes the connection. */
  private expire(c: ConnState, code: ProxyErrorCode, now: number): void {
    c.expired = true;
    const reply = rescue(code);
    this.stats.codes.record(reply.status);
    if (c.socket.writable) c.socket.end(RAW_408(reply.body));
    c.socket.destroySoon();
    logHeaderPhaseReply(
      this.accessLogs,
      c.headersSince,
      now,
      c.info,
      reply,
      c.socket.bytesRead - c.bytesMark,
    );
  }

  private checkRequests(now: number): void {
    const limit = this.limits.requestTimeoutMs;
    for (const r of this.pendingRequests) {
      if (r.done || r.bodyEnded || r.ds.headersSent) this.pendingRequests.delete(r);
      else if (now - r.startTime >= limit) {
        this.pendingRequests.delete(r);
        this.stats.downstream_rq_timeout.inc();
        if (r.handler !== null) r.handler.onDownstreamReset();
        r.sendLocalReply(ProxyErrorCode.RequestTimeout);
      }
    }
  }
}

function sweep(t: ConnectionTimers): void {
  t.tick();
}
