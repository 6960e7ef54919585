// The HTTP connection manager's codec side: takes accepted sockets (HTTP/1.1 or h2c), turns each
// request into an ActiveRequest, tracks connections for stats and graceful draining.
import { STATUS_CODES } from 'node:http';
import {
  constants as h2c,
  createServer as createH2Server,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { ActiveRequest, type ConnectionInfo } from '../active-request.js';
import { H1Connection, type H1ConnectionHandler } from '../downstream/h1-connection.js';
import type { H1Downstream } from '../downstream/h1-downstream.js';
import type { H1RequestBody, H1RequestHead } from '../downstream/h1-request.js';
import { H2Downstream } from '../downstream/h2-downstream.js';
import { UpgradeDownstream } from '../downstream/upgrade-downstream.js';
import { ProxyErrorCode } from '../local-reply.js';
import { Flag } from '../response-flags.js';
import type { HeaderMap } from '../route/header-mutation.js';
import { ConnectionTimers, ConnState } from './connection-timers.js';
import type { HcmConfig } from './hcm-config.js';
import { logHeaderPhaseReply } from './header-phase-log.js';
import type { ParseError } from './http-parser.js';
import { checkH1Request, checkH2Request, parseErrorDetails, parseErrorStatus } from './request-checks.js';
import { h1RequestHeadBytes, h2HeaderBytes } from './wire-bytes.js';

const INFO = Symbol('mizzen.connInfo');
const STATE = Symbol('mizzen.connState');

/** What this HCM hangs on node's socket, session and stream objects. */
interface Tagged {
  [INFO]?: ConnectionInfo;
  [STATE]?: ConnState;
}

function tagged(o: object): Tagged {
  return o;
}

function ignore(): void {}

/**
 * Gives a new HTTP/2 stream an 'error' listener before anything else can run, and counts it on its
 * connection (for the idle timeout). `this` is the session.
 */
function guardStream(this: Http2Session, stream: ServerHttp2Stream): void {
  stream.on('error', ignore);
  const st = tagged(this)[STATE];
  if (st === undefined) return;
  st.streamStarted();
  tagged(stream)[STATE] = st;
  stream.once('close', h2StreamClosed);
}

function h2StreamClosed(this: ServerHttp2Stream): void {
  tagged(this)[STATE]!.streamEnded(Date.now());
}

/** A raw HTTP/1.1 reply for requests node's parser refused (no request object exists). */
function rawReply(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
}

/** Request headers that never go upstream from an HTTP/1.1 request. */
const H1_STRIP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host'];

/** Serves HTTP on sockets handed over by a listener filter chain. */
export class HttpConnectionManager implements H1ConnectionHandler {
  private readonly h2: Http2Server;
  private readonly conns = new Set<ConnState>();
  private readonly timers: ConnectionTimers;
  /** True once draining: responses close HTTP/1.1 connections, HTTP/2 sessions got GOAWAY. */
  draining = false;

  constructor(readonly config: HcmConfig) {
    const co = config.codecOptions;
    this.timers = new ConnectionTimers(
      {
        requestHeadersTimeoutMs: co.requestHeadersTimeoutMs,
        streamIdleTimeoutMs: config.streamIdleTimeoutMs,
        idleTimeoutMs: co.idleTimeoutMs,
        requestTimeoutMs: co.requestTimeoutMs,
      },
      config.stats,
      this.conns,
      config.accessLogs,
    );
    this.h2 = createH2Server({
      settings: { enablePush: false, initialWindowSize: 1 << 20 },
      maxSessionMemory: 64,
      // Enough pairs for the configured limit (plus pseudo headers); checkH2Request answers 431 above it.
      maxHeaderListPairs: Math.max(128, co.maxHeadersCount + 16),
    });
    this.h2.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) =>
        this.onH2Stream(stream, headers, flags, rawHeaders),
    );
    this.h2.on('session', (session: Http2Session) => {
      session.on('error', ignore);
      // nghttp2 may reset a stream (RST_STREAM, content-length or flow-control violation in the same
      // read as its HEADERS) before the server's 'stream' listeners run: guard each stream at birth.
      session.on('stream', guardStream);
      const sock = session.socket;
      const st = sock ? tagged(sock)[STATE] : undefined;
      if (st) {
        st.session = session;
        tagged(session)[STATE] = st;
      }
      if (this.draining) session.goaway(h2c.NGHTTP2_NO_ERROR);
    });
    this.h2.on('sessionError', ignore);
  }

  /** Serves one accepted connection. `http2`: the client sent the HTTP/2 preface (or ALPN chose h2). */
  handleConnection(socket: Socket, info: ConnectionInfo, http2: boolean): void {
    const st = this.config.stats;
    const state = new ConnState(socket, http2, Date.now(), info);
    tagged(socket)[INFO] = info;
    tagged(socket)[STATE] = state;
    this.conns.add(state);
    this.timers.connectionAdded();
    st.downstream_cx_total.inc();
    st.downstream_cx_active.inc();
    (http2 ? st.downstream_cx_http2_total : st.downstream_cx_http1_total).inc();
    (http2 ? st.downstream_cx_http2_active : st.downstream_cx_http1_active).inc();
    socket.on('error', () => {});
    socket.once('close', () => {
      this.conns.delete(state);
      st.downstream_cx_active.dec();
      (http2 ? st.downstream_cx_http2_active : st.downstream_cx_http1_active).dec();
      st.downstream_cx_destroy.inc();
    });
    if (http2) {
      // node:http2 takes over the socket handle and reads the unshifted preface itself.
      this.h2.emit('connection', socket);
    } else {
      new H1Connection(socket, this, this.config.codecOptions.maxRequestHeadersBytes);
      // Protocol sniffing paused the socket with the first bytes unshifted; the parser reads them now.
      if (socket.isPaused()) socket.resume();
    }
  }

  /** H1Connection: a request's turn has come. */
  onH1Request(ds: H1Downstream): void {
    const socket = ds.conn.socket;
    const info = tagged(socket)[INFO]!;
    const state = tagged(socket)[STATE]!;
    state.streamStarted();
    const head = ds.head;
    const bad = checkH1Request(head, this.config.codecOptions);
    const ar = this.h1Request(head, info, null, ds.body);
    if (ar === null) {
      this.config.stats.codes.record(400);
      ds.closeAfter = true;
      ds.respond(400, { 'content-length': '0' }, true);
      return;
    }
    ds.events = ar;
    ar.ds = ds;
    state.current = ds;
    if (this.draining || state.closeAfter) {
      ds.closeAfter = true;
      state.closeAfter = true;
      this.config.stats.downstream_cx_drain_close.inc();
    }
    if (bad !== -1) {
      // A refused request head ends the connection, as Envoy's HTTP/1 codec does.
      ds.closeAfter = true;
      ar.reject(bad);
      return;
    }
    if (ar.body !== null && this.timers.tracksRequests) this.timers.watchRequest(ar);
    ar.start();
  }

  /** H1Connection: the request's exchange is over (response done or connection gone). */
  onH1StreamEnd(ds: H1Downstream): void {
    const state = tagged(ds.conn.socket)[STATE];
    if (state === undefined) return;
    if (state.current === ds) state.current = null;
    state.streamEnded(Date.now());
  }

  /** llhttp could not parse the request: answer as Envoy's codec does and close. */
  onH1ParseError(err: ParseError, socket: Socket, inFlight: H1Downstream | null): void {
    const st = this.config.stats;
    st.downstream_cx_protocol_error.inc();
    if (socket.writable && !inFlight?.headersSent) {
      const status = parseErrorStatus(err.code, err.reason);
      st.codes.record(status);
      socket.end(rawReply(status));
      socket.destroySoon();
      // Envoy logs a codec error's local reply with the DPE flag and the codec's details.
      const c = tagged(socket)[STATE];
      if (c !== undefined && inFlight === null) {
        const now = Date.now();
        const details = parseErrorDetails(err.code, status);
        const reply = { status, flag: Flag.DPE, body: '', details, overloaded: false };
        const since = c.headersSince > 0 ? c.headersSince : now;
        logHeaderPhaseReply(
          this.config.accessLogs,
          since,
          now,
          c.info,
          reply,
          c.socket.bytesRead - c.bytesMark,
        );
      }
    } else socket.destroy();
  }

  /** H1Connection: an Upgrade or CONNECT head; the socket is this request's alone from here on. */
  onH1Upgrade(head: H1RequestHead, body: H1RequestBody | null, socket: Socket, rest: Buffer): void {
    if (head.method === 'CONNECT') {
      this.onConnect(head, socket);
      return;
    }
    const info = tagged(socket)[INFO]!;
    const up = String(head.headers['upgrade'] ?? '').toLowerCase();
    // An h2c upgrade is not honoured (Envoy strips it); the request is served as plain HTTP/1.1.
    const bad = checkH1Request(head, this.config.codecOptions);
    const ar = this.h1Request(head, info, up === 'h2c' ? null : up, body);
    if (ar !== null && bad !== -1) {
      ar.ds = new UpgradeDownstream(socket, ar);
      ar.reject(bad);
      return;
    }
    if (ar === null) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    ar.upgradeHead = rest;
    ar.ds = new UpgradeDownstream(socket, ar);
    ar.start();
  }

  /** CONNECT (the codec hands over the raw socket): refused with a local reply, never a silent close. */
  private onConnect(head: H1RequestHead, socket: Socket): void {
    const info = tagged(socket)[INFO]!;
    const ar = new ActiveRequest(
      this.config,
      info,
      'CONNECT',
      head.url,
      head.url,
      info.tls ? 'https' : 'http',
      head.headers,
      null,
      head.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1',
      'connect',
    );
    ar.ds = new UpgradeDownstream(socket, ar);
    ar.reject(ProxyErrorCode.ConnectRejected);
  }

  private h1Request(
    req: H1RequestHead,
    info: ConnectionInfo,
    upgrade: string | null,
    body: H1RequestBody | null,
  ): ActiveRequest | null {
    // A method number llhttp has and this table lacks: refused rather than guessed.
    if (req.method === '') return null;
    const headers = req.headers;
    let authority = typeof headers['host'] === 'string' ? headers['host'] : '';
    let path = req.url === '' ? '/' : req.url;
    let scheme = info.tls ? 'https' : 'http';
    if (path.charCodeAt(0) !== 47 && path !== '*') {
      // Absolute-form (HTTP_PROXY clients): the URL's authority wins over Host, as in Envoy.
      try {
        const u = new URL(path);
        authority = u.host;
        scheme = u.protocol.slice(0, -1);
        path = u.pathname + u.search;
      } catch {
        return null;
      }
    }
    const hasBody =
      (headers['content-length'] !== undefined && headers['content-length'] !== '0') ||
      headers['transfer-encoding'] !== undefined;
    for (const k of H1_STRIP) delete headers[k];
    if (headers['te'] !== undefined && headers['te'] !== 'trailers') delete headers['te'];
    const ar = new ActiveRequest(
      this.config,
      info,
      req.method,
      path,
      authority,
      scheme,
      headers,
      hasBody || upgrade !== null ? body : null,
      req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1',
      upgrade,
    );
    ar.headerBytesReceived = h1RequestHeadBytes(req.method, req.url, req.httpVersion, req.rawHeaders);
    return ar;
  }

  private onH2Stream(
    stream: ServerHttp2Stream,
    raw: IncomingHttpHeaders,
    flags: number,
    rawHeaders: string[],
  ): void {
    // Already reset by the peer or by nghttp2 (the 'stream' event is emitted a tick after HEADERS).
    if (stream.destroyed) return;
    const sessionSocket = stream.session?.socket;
    const info = sessionSocket ? tagged(sessionSocket)[INFO] : undefined;
    if (!info) {
      stream.close(h2c.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const headers: HeaderMap = {};
    for (const k in raw) if (k.charCodeAt(0) !== 58) headers[k] = raw[k];
    const authority = String(raw[':authority'] ?? raw['host'] ?? '');
    delete headers['host'];
    const endStream = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
    const ar = new ActiveRequest(
      this.config,
      info,
      String(raw[':method'] ?? 'GET'),
      String(raw[':path'] ?? '/'),
      authority,
      String(raw[':scheme'] ?? (info.tls ? 'https' : 'http')),
      headers,
      endStream ? null : stream,
      'HTTP/2',
      null,
    );
    ar.headerBytesReceived = h2HeaderBytes(rawHeaders);
    ar.ds = new H2Downstream(stream, ar);
    const bad = checkH2Request(ar.method, rawHeaders, this.config.codecOptions);
    if (bad !== -1) {
      ar.reject(bad);
      return;
    }
    if (ar.body !== null && this.timers.tracksRequests) this.timers.watchRequest(ar);
    ar.start();
  }

  /**
   * Starts graceful draining (Envoy's drain sequence): HTTP/2 sessions get GOAWAY; HTTP/1.1 responses
   * carry `connection: close` from now on (Node then closes the connection after the response). Idle
   * HTTP/1.1 connections are not cut here (a client may be sending on one right now); the listener's
   * drain timer closes what is left.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const c of this.conns) {
      if (c.session !== null) {
        if (!c.session.closed) c.session.goaway(h2c.NGHTTP2_NO_ERROR);
        c.session.close();
      } else {
        c.closeAfter = true;
        if (c.current !== null && !c.current.headersSent) c.current.closeAfter = true;
      }
    }
  }

  /** Number of open downstream connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Closes every connection now. */
  close(): void {
    this.draining = true;
    this.timers.stop();
    for (const c of this.conns) {
      if (c.session !== null) c.session.destroy();
      c.socket.destroy();
    }
    this.conns.clear();
  }
}
