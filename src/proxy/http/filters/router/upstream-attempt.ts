// One try of a request against one upstream host (Envoy's UpstreamRequest): pool admission, HTTP/1.1
// or HTTP/2 exchange, per-try timeout, reset classification, per-host/cluster accounting.
import { NO_PRINCIPALS, type UpstreamPrincipals } from '../../../upstream/pool/upstream-principals.js';
import { constants as h2c, type ClientHttp2Stream, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Cluster } from '../../../upstream/cluster.js';
import type { Host } from '../../../upstream/host.js';
import {
  Acquire,
  CONNECT_TIMEOUT_CODE,
  type ConnPool,
  type H1Exchange,
  type H1Stream,
  type PoolWaiter,
} from '../../../upstream/pool/conn-pool.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import type { RequestBody } from './request-body.js';
import { h2RequestHeaders } from './h2-request-headers.js';
import { stringHeadersToMap } from './raw-headers.js';
import { INVALID_RESPONSE } from '../../../upstream/pool/h1-client-connection.js';
import { INVALID_REQUEST } from '../../../upstream/pool/h1-request-head.js';
import { ResetKind } from './retry-state.js';

/** Receives what happens to an attempt (the per-request router). */
export interface AttemptOwner {
  readonly body: RequestBody | null;
  onAttemptHeaders(a: UpstreamAttempt, status: number, headers: HeaderMap, endStream: boolean): void;
  onAttemptData(a: UpstreamAttempt, chunk: Buffer): void;
  onAttemptEnd(a: UpstreamAttempt, trailers: HeaderMap | null): void;
  onAttemptReset(a: UpstreamAttempt, kind: ResetKind): void;
  onAttemptOverflow(a: UpstreamAttempt): void;
  onAttemptUpgrade(
    a: UpstreamAttempt,
    status: number,
    headers: HeaderMap,
    socket: Socket,
    head: Buffer,
  ): void;
}

const WAITING = 0;
const SENT = 1;
const HEADERS = 2;
const DONE = 3;

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  CONNECT_TIMEOUT_CODE,
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** Errors of a kept-alive connection the server closed just as it was reused (the codec reports a close as ECONNRESET). */
const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Methods a proxy may send again on its own (RFC 9110 §9.2.2: idempotent; "a proxy MUST NOT automatically
 * retry non-idempotent requests"). The server may have acted on a request before its connection broke.
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The HTTP/1.1 codec's errors for a request it would not send or a response it would not take (llhttp's are `HPE_…`). */
const PROTOCOL_ERRORS = new Set([INVALID_REQUEST, INVALID_RESPONSE]);

const EMPTY = Buffer.alloc(0);

/** One upstream try. */
export class UpstreamAttempt implements PoolWaiter, H1Exchange {
  private state = WAITING;
  /** The HTTP/1.1 exchange in flight, or null. */
  private h1: H1Stream | null = null;
  private h2: ClientHttp2Stream | null = null;
  private h2Connected: (() => boolean) | null = null;
  private h2Principals: (() => UpstreamPrincipals) | null = null;
  private h2Trailers: HeaderMap | null = null;
  private perTryTimer: NodeJS.Timeout | null = null;
  private released = false;
  private acquired = false;
  private reissued = false;
  /** performance.now() when the request was sent. */
  sentAt = 0;
  /** ms from send to response headers. */
  serviceTimeMs = 0;
  /** True once the owner decided to drop this attempt (retry, timeout, downstream reset). */
  discarded = false;
  /** `ip:port` of our side of the upstream connection, once known. */
  localAddress: string | null = null;
  /** The upstream connection's mutual TLS identities, once the response began. */
  principals: UpstreamPrincipals = NO_PRINCIPALS;

  constructor(
    private readonly owner: AttemptOwner,
    readonly cluster: Cluster,
    readonly host: Host,
    private readonly pool: ConnPool,
    /** 1 for the first try. */
    readonly number: number,
    private readonly method: string,
    private readonly path: string,
    /** Upstream headers including `host` (HTTP/1.1) or `:authority` etc. (HTTP/2 adds pseudo headers). */
    private readonly headers: HeaderMap,
    private readonly authority: string,
    private readonly scheme: string,
    private readonly perTryTimeoutMs: number,
    /** HTTP/1.1 `Upgrade` protocol to request (WebSocket), or null. */
    private readonly upgrade: string | null = null,
  ) {}

  /** True when this attempt speaks HTTP/2. */
  get http2(): boolean {
    return this.pool.protocol === 'http2';
  }

  /** True when response headers were received. */
  get gotHeaders(): boolean {
    return this.state >= HEADERS;
  }

  /** Asks the pool for capacity and sends (now or when a pending slot frees). */
  begin(): void {
    const st = this.cluster.stats;
    st.upstream_rq_total.inc();
    st.upstream_rq_active.inc();
    this.host.rqTotal++;
    this.host.rqActive++;
    const r = this.pool.acquire(this);
    if (r === Acquire.Ready) {
      this.acquired = true;
      this.send();
    } else if (r === Acquire.Overflow) {
      this.finish(false);
      this.owner.onAttemptOverflow(this);
    }
  }

  onPoolReady(): void {
    this.acquired = true;
    if (this.discarded) {
      this.finish(false);
      return;
    }
    this.send();
  }

  private send(): void {
    this.state = SENT;
    this.sentAt = performance.now();
    if (this.perTryTimeoutMs > 0 && this.perTryTimer === null)
      this.perTryTimer = setTimeout(perTryTimeout, this.perTryTimeoutMs, this);
    const body = this.owner.body;
    try {
      if (this.pool.protocol === 'http1') this.sendH1(body);
      else this.sendH2(body);
    } catch {
      this.fail(ResetKind.ProtocolError);
    }
  }

  private sendH1(body: RequestBody | null): void {
    let stream: PassThrough | null = null;
    if (body !== null) {
      stream = new PassThrough();
      body.attach(stream);
    }
    this.h1 = null;
    const s = this.pool.dispatchH1(this, {
      method: this.method,
      path: this.path,
      headers: this.headers,
      body: stream,
      upgrade: this.upgrade,
    });
    // The pool may already have failed it (a header the codec will not send): keep no handle then.
    if (this.state === SENT) this.h1 = s;
  }

  private sendH2(body: RequestBody | null): void {
    const h = h2RequestHeaders(this.method, this.path, this.authority, this.scheme, this.headers);
    const { stream, connected, principals } = this.pool.requestH2(h, body === null);
    this.h2 = stream;
    this.h2Connected = connected;
    this.h2Principals = principals;
    (stream as Owned)[ATTEMPT] = this;
    stream.on('response', h2Response);
    stream.on('trailers', h2Trailers);
    stream.on('error', h2Error);
    stream.on('close', h2Close);
    if (body !== null) body.attach(stream);
  }

  // ---- HTTP/1.1 (H1Exchange: called by the pool) ----

  onH1Head(status: number, raw: string[], s: H1Stream): void {
    this.h1 = s;
    this.localAddress = s.localAddress;
    this.principals = s.principals;
    this.gotResponse();
    // A discarded attempt (being retried) drains its response to keep the connection.
    if (this.discarded) return;
    this.owner.onAttemptHeaders(this, status, stringHeadersToMap(raw), false);
  }

  onH1Data(chunk: Buffer): void {
    if (!this.discarded) this.owner.onAttemptData(this, chunk);
  }

  onH1Complete(): void {
    this.h1 = null;
    if (this.state === DONE) return;
    this.state = DONE;
    this.finish(true);
    if (!this.discarded) this.owner.onAttemptEnd(this, null);
  }

  onH1Error(err: NodeJS.ErrnoException, s: H1Stream): void {
    this.h1 = null;
    if (this.state === DONE) return;
    if (this.state >= HEADERS) {
      // The response broke off after its head (reset, truncated body, bad chunk).
      this.state = DONE;
      this.finish(false);
      this.cluster.stats.upstream_rq_rx_reset.inc();
      if (!this.discarded) this.owner.onAttemptReset(this, ResetKind.ConnectionTermination);
      return;
    }
    const code = err.code ?? '';
    // A kept-alive connection the server closed just as we reused it: resend once on a fresh one, but
    // only an idempotent request (the server may have taken it); any other fails as a reset, for the
    // route's retry policy to decide.
    if (
      !this.reissued &&
      !this.discarded &&
      s.reused &&
      STALE_ERRORS.has(code) &&
      IDEMPOTENT_METHODS.has(this.method) &&
      (this.owner.body === null || this.owner.body.replayable)
    ) {
      this.reissued = true;
      this.send();
      return;
    }
    let kind: ResetKind;
    if (CONNECT_ERRORS.has(code) || (!s.connected && !s.reused)) kind = ResetKind.ConnectFailure;
    else if (code.startsWith('HPE_') || PROTOCOL_ERRORS.has(code)) kind = ResetKind.ProtocolError;
    else kind = ResetKind.ConnectionTermination;
    this.fail(kind);
  }

  onH1Upgrade(status: number, raw: string[], socket: Socket, s: H1Stream): void {
    this.h1 = null;
    this.localAddress = s.localAddress;
    this.gotResponse();
    this.state = DONE;
    // The connection left the pool for the tunnel; the request slot is returned now.
    this.finish(true);
    if (this.discarded) {
      socket.destroy();
      return;
    }
    // The codec put any bytes after the head back into the socket: they arrive as its first data.
    this.owner.onAttemptUpgrade(this, status, stringHeadersToMap(raw), socket, EMPTY);
  }

  // ---- HTTP/2 ----

  /** Event entry point (called through a module-level trampoline). */
  onH2Response(headers: H2Headers, flags: number): void {
    this.gotResponse();
    if (this.h2Principals !== null) this.principals = this.h2Principals();
    const status = Number(headers[':status'] ?? 502);
    const h: HeaderMap = {};
    for (const k in headers) if (k.charCodeAt(0) !== 58) h[k] = headers[k];
    const endStream = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
    if (this.discarded) {
      this.h2!.resume();
      return;
    }
    this.owner.onAttemptHeaders(this, status, h, endStream);
    if (this.discarded || endStream) {
      this.h2!.resume();
      return;
    }
    this.h2!.on('data', onData);
    this.h2!.on('end', h2End);
  }

  /** Event entry point (called through a module-level trampoline). */
  onH2Trailers(trailers: H2Headers): void {
    const t: HeaderMap = {};
    for (const k in trailers) if (k.charCodeAt(0) !== 58) t[k] = trailers[k];
    this.h2Trailers = t;
  }

  /** Event entry point (called through a module-level trampoline). */
  onH2End(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    if (!this.discarded) this.owner.onAttemptEnd(this, this.h2Trailers);
  }

  /** Event entry point (called through a module-level trampoline). */
  onH2Error(err: NodeJS.ErrnoException): void {
    if (this.state === DONE) return;
    this.fail(this.classifyH2(err));
  }

  /** Event entry point (called through a module-level trampoline). */
  onH2Close(): void {
    const s = this.h2!;
    if (this.state !== DONE) {
      const kind =
        s.rstCode === h2c.NGHTTP2_REFUSED_STREAM
          ? ResetKind.RefusedStream
          : this.h2Connected?.() === false
            ? ResetKind.ConnectFailure
            : s.rstCode === h2c.NGHTTP2_NO_ERROR
              ? ResetKind.ConnectionTermination
              : ResetKind.RemoteReset;
      this.fail(kind);
    }
    this.finish(this.state === DONE && !this.discarded);
  }

  private classifyH2(err: NodeJS.ErrnoException): ResetKind {
    if (this.h2Connected?.() === false || CONNECT_ERRORS.has(err.code ?? '')) return ResetKind.ConnectFailure;
    if (this.h2?.rstCode === h2c.NGHTTP2_REFUSED_STREAM || /REFUSED_STREAM/.test(err.message))
      return ResetKind.RefusedStream;
    if (err.code === 'ERR_HTTP2_STREAM_ERROR') return ResetKind.RemoteReset;
    if (err.code === 'ERR_HTTP2_PROTOCOL_ERROR') return ResetKind.ProtocolError;
    return ResetKind.ConnectionTermination;
  }

  // ---- shared ----

  /** Event entry point (called through a module-level trampoline). */
  onData(chunk: Buffer): void {
    if (!this.discarded) this.owner.onAttemptData(this, chunk);
  }

  private gotResponse(): void {
    this.state = HEADERS;
    this.serviceTimeMs = performance.now() - this.sentAt;
    this.clearPerTry();
  }

  /** Event entry point (called through a module-level trampoline). */
  onPerTryTimeout(): void {
    this.perTryTimer = null;
    if (this.state >= HEADERS || this.discarded) return;
    this.cluster.stats.upstream_rq_per_try_timeout.inc();
    this.host.rqTimeout++;
    this.fail(ResetKind.PerTryTimeout);
  }

  private fail(kind: ResetKind): void {
    const before = this.state;
    this.state = DONE;
    this.abortTransport();
    this.finish(false);
    if (before !== DONE && !this.discarded) this.owner.onAttemptReset(this, kind);
  }

  /** Pauses the upstream response (downstream is backed up). */
  pause(): void {
    if (this.h1 !== null) this.h1.pause();
    else if (this.h2 !== null) this.h2.pause();
  }

  /** Resumes the upstream response. */
  resume(): void {
    if (this.h1 !== null) this.h1.resume();
    else if (this.h2 !== null) this.h2.resume();
  }

  /**
   * Drops the attempt: a response being retried is drained (connection kept), anything else reset.
   */
  discard(keepConnection: boolean): void {
    if (this.discarded) return;
    this.discarded = true;
    this.clearPerTry();
    if (this.state === WAITING) {
      this.pool.cancel(this);
      this.finish(false);
      return;
    }
    if (keepConnection && this.state === HEADERS) {
      this.resume();
      return;
    }
    if (this.state !== DONE) {
      this.state = DONE;
      this.cluster.stats.upstream_rq_tx_reset.inc();
      this.abortTransport();
      this.finish(false);
    }
  }

  private abortTransport(): void {
    this.clearPerTry();
    if (this.h1 !== null) {
      const s = this.h1;
      this.h1 = null;
      s.abort();
    }
    if (this.h2 !== null && !this.h2.destroyed) this.h2.close(h2c.NGHTTP2_CANCEL);
  }

  private clearPerTry(): void {
    if (this.perTryTimer !== null) {
      clearTimeout(this.perTryTimer);
      this.perTryTimer = null;
    }
  }

  /** Returns pool capacity and active-request counts once. */
  private finish(success: boolean): void {
    if (this.released) return;
    this.released = true;
    this.clearPerTry();
    if (this.acquired) this.pool.release();
    this.host.rqActive--;
    this.cluster.stats.upstream_rq_active.dec();
    if (success) this.cluster.stats.upstream_rq_completed.inc();
  }
}

const ATTEMPT = Symbol('mizzen.attempt');
/** HTTP/2 streams carry their attempt, so listeners are shared functions. */
type Owned = { [ATTEMPT]?: UpstreamAttempt };
function attemptOf(e: unknown): UpstreamAttempt {
  return (e as Owned)[ATTEMPT]!;
}
function h2Response(this: unknown, headers: H2Headers, flags: number): void {
  attemptOf(this).onH2Response(headers, flags);
}
function h2Trailers(this: unknown, trailers: H2Headers): void {
  attemptOf(this).onH2Trailers(trailers);
}
function h2End(this: unknown): void {
  attemptOf(this).onH2End();
}
function h2Error(this: unknown, err: NodeJS.ErrnoException): void {
  attemptOf(this).onH2Error(err);
}
function h2Close(this: unknown): void {
  attemptOf(this).onH2Close();
}
function onData(this: unknown, chunk: Buffer): void {
  attemptOf(this).onData(chunk);
}
function perTryTimeout(a: UpstreamAttempt): void {
  a.onPerTryTimeout();
}
