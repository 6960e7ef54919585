// One upstream HTTP/1.1 keep-alive connection: the client codec. It writes each request head as one string
// (the body follows, chunked when its length is unknown) and feeds the response bytes to node's llhttp,
// in the same strict mode as the downstream codec. One request at a time, no pipelining. It replaces
// undici's Client, whose request objects, WebAssembly parser and per-reuse idle-socket check were 16 % of
// the proxy's CPU profile under wrk -c50. Measured in docs/performance.md (2026-12-08): the same CPU per
// request at 50 connections, 6-31 % less with 10 connections or at a fixed rate, 6 MiB less idle RSS.
//
// What a server may send and what it causes:
// - a malformed or oversized response head: a parse error (`HPE_…`), the connection closes;
// - a 1xx other than 101: skipped; the final response follows on the same connection;
// - 101 to a request that asked for an upgrade: the socket leaves the pool with any bytes read past the head;
//   101 to one that did not: a protocol error;
// - bytes while no request is in flight, or after the response it was sent: the connection closes (never
//   read as the next request's response);
// - `connection: close`, HTTP/1.0 without keep-alive, or `Keep-Alive: timeout=N` of one second or less:
//   the connection takes no further request.
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  closeParserSoon,
  HTTPParser,
  type NodeHttpParser,
  type ParseError,
} from '../../http/hcm/http-parser.js';
import type { H1Exchange, H1Request, H1Stream } from './conn-pool.js';
import { openConnection, type ConnectionContext } from './connection.js';
import { INVALID_REQUEST, requestHead, type RequestHead } from './h1-request-head.js';
import { NO_PRINCIPALS, upstreamPrincipals, type UpstreamPrincipals } from './upstream-principals.js';

/** Error code of a response the codec will not accept beyond what llhttp refuses (an unasked-for 101). */
export const INVALID_RESPONSE = 'ERR_H1_INVALID_RESPONSE';

/** What a connection tells its pool. */
export interface H1ConnectionOwner {
  readonly ctx: ConnectionContext;
  /** Connections open or opening (the pool's count). */
  sockets: number;
  /** `c` takes no further request. */
  retire(c: H1ClientConnection): void;
  /** `c` finished its request: park it, or close it if it retired. */
  connFree(c: H1ClientConnection): void;
  /** `c` never opened a socket (its only request was refused before sending). */
  connUnused(c: H1ClientConnection): void;
  /** `c`'s socket left for an upgraded tunnel. */
  connDetached(c: H1ClientConnection): void;
  /** `c`'s socket closed. */
  connClosed(c: H1ClientConnection): void;
}

/** A server's `Keep-Alive: timeout=N` is shortened by this much, as undici and Node's Agent do. */
const KEEP_ALIVE_MARGIN_MS = 1000;

/** The longest delay Node's timers take (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

const { kOnMessageBegin, kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = HTTPParser;

/** One upstream connection and the exchange on it. */
export class H1ClientConnection implements H1Stream {
  socket: Socket | null = null;
  private parser: NodeHttpParser | null = null;
  /** Requests this connection has been given. */
  uses = 0;
  /** Takes no further request (request limit or max duration reached, or the server said close). */
  retiring = false;
  /** Its socket closed (or left for an upgrade): never reused. */
  closed = false;
  connected = false;
  reused = false;
  localAddress: string | null = null;
  principals: UpstreamPrincipals = NO_PRINCIPALS;
  /** The exchange in flight, or null when idle. */
  private x: H1Exchange | null = null;
  /** The exchange whose response ended inside the current parse (told once the parse returns). */
  private finished: H1Exchange | null = null;
  private paused = false;
  private maxTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Idle timeout in ms (0: none, Envoy's meaning of idle_timeout 0s); a server's Keep-Alive hint may shorten it. */
  private idleMs: number;
  private socketError: Error | null = null;

  // The request being written.
  private method = '';
  private askedUpgrade = false;
  /** Its head, until written (with the body's first chunk or its end when there is a body). */
  private head: RequestHead | null = null;
  private body: Readable | null = null;
  private chunked = false;
  private bodyBytes = 0;
  /** The request's `content-length`, once its head was written with one. */
  private expected = -1;

  // The response being read.
  private rawAcc: string[] = [];
  /** A 1xx (not 101) is being read: it is skipped. */
  private informational = false;
  /** A message began with no request waiting for it. */
  private unsolicited = false;
  private upgradeStatus = 0;
  private upgradeRaw: string[] | null = null;

  private readonly onDataFn: (chunk: Buffer) => void;
  private readonly onEndFn: () => void;
  private readonly onDrainFn: () => void;
  private readonly onBodyDataFn: (chunk: Buffer) => void;
  private readonly onBodyEndFn: () => void;
  private readonly onBodyErrorFn: (err: Error) => void;

  constructor(private readonly owner: H1ConnectionOwner) {
    this.idleMs = Math.min(owner.ctx.options.idleTimeoutMs, MAX_TIMER_MS);
    this.onDataFn = onData.bind(this);
    this.onEndFn = () => this.onEnd();
    this.onDrainFn = () => this.onDrain();
    this.onBodyDataFn = onBodyData.bind(this);
    this.onBodyEndFn = onBodyEnd.bind(this);
    this.onBodyErrorFn = onBodyError.bind(this);
  }

  /** Sends `req` (the pool took this connection from its idle list or made it). */
  start(x: H1Exchange, req: H1Request): void {
    this.x = x;
    this.uses++;
    this.reused = this.uses > 1;
    if (this.paused) this.resume();
    const owner = this.owner;
    const max = owner.ctx.options.maxRequestsPerConnection;
    if (max > 0 && this.uses >= max) owner.retire(this);
    // After a HEAD a misbehaving server may still send a body, and an upgrade leaves HTTP: neither
    // connection takes another request.
    if (req.method === 'HEAD' || req.upgrade !== null) owner.retire(this);
    const head = requestHead(req, !this.retiring);
    if (typeof head === 'string') {
      // Refused before anything was written: the connection itself is fine.
      this.x = null;
      if (this.socket === null) owner.connUnused(this);
      else owner.connFree(this);
      x.onH1Error(codeError(`upstream request not sent: ${head}`, INVALID_REQUEST), this);
      return;
    }
    if (head.close) owner.retire(this);
    this.method = req.method;
    this.askedUpgrade = req.upgrade !== null;
    this.head = head;
    this.body = req.body;
    this.bodyBytes = 0;
    this.chunked = false;
    this.unsolicited = false;
    if (this.socket === null) this.connect();
    else this.writeRequest();
  }

  // ---- the socket ----

  private connect(): void {
    const owner = this.owner;
    const ctx = owner.ctx;
    owner.sockets++;
    const sock = openConnection(ctx, false, () => this.onSocketClose());
    this.socket = sock;
    sock.once(ctx.tls ? 'secureConnect' : 'connect', () => this.onConnected());
    sock.on('error', (err: Error) => {
      this.socketError ??= err;
    });
    const maxMs = ctx.options.maxConnectionDurationMs;
    if (maxMs > 0) {
      this.maxTimer = setTimeout(expireConnection, maxMs, this);
      this.maxTimer.unref();
    }
  }

  private onConnected(): void {
    const sock = this.socket!;
    this.connected = true;
    if (sock.localAddress) this.localAddress = `${sock.localAddress}:${sock.localPort}`;
    this.principals = upstreamPrincipals(sock);
    const p = new HTTPParser();
    p.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
    p[kOnMessageBegin] = onMessageBegin.bind(this);
    p[kOnHeaders] = onHeaders.bind(this);
    p[kOnHeadersComplete] = onHeadersComplete.bind(this);
    p[kOnBody] = onBody.bind(this);
    p[kOnMessageComplete] = onMessageComplete.bind(this);
    this.parser = p;
    sock.on('data', this.onDataFn);
    sock.on('end', this.onEndFn);
    sock.on('drain', this.onDrainFn);
    if (this.x !== null) this.writeRequest();
  }

  private onSocketClose(): void {
    this.closed = true;
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.maxTimer = null;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.stopBody();
    // 'close' is emitted on a later tick than any destroy(), so no parse is running.
    if (this.parser !== null) this.parser.close();
    this.parser = null;
    this.owner.connClosed(this);
    const x = this.x;
    this.x = null;
    if (x !== null)
      x.onH1Error(this.socketError ?? codeError('upstream connection closed', 'ECONNRESET'), this);
  }

  /** The server closed its side: a response delimited by the close ends here; anything else fails. */
  private onEnd(): void {
    this.owner.retire(this);
    const p = this.parser;
    if (p !== null) {
      const r = p.finish();
      if (r !== undefined && typeof r !== 'number') {
        this.parseFailed(r);
        return;
      }
      if (this.finished !== null) this.deliverComplete();
    }
    this.socketError ??= codeError('upstream connection closed by the server', 'ECONNRESET');
    if (this.socket !== null) this.socket.destroy();
  }

  private onDrain(): void {
    if (this.body !== null && this.head === null) this.body.resume();
  }

  /** Parses response bytes. */
  data(chunk: Buffer): void {
    const p = this.parser;
    if (p === null) return;
    let r: number | ParseError;
    try {
      r = p.execute(chunk);
    } catch {
      // An exchange handler threw inside a parser callback: the parser state is unknown.
      this.closeWith(codeError('upstream response handler failed', INVALID_RESPONSE));
      return;
    }
    if (typeof r !== 'number') {
      this.parseFailed(r);
      return;
    }
    if (this.upgradeRaw !== null) {
      this.upgraded(chunk.subarray(r));
      return;
    }
    if (this.finished !== null) this.deliverComplete();
    else if (this.unsolicited && this.x === null) this.closeWith(null);
  }

  private parseFailed(err: ParseError): void {
    this.finished = null;
    this.closeWith(err);
  }

  /** Closes the connection; the exchange in flight, if any, fails with `err`. */
  private closeWith(err: Error | null): void {
    if (err !== null) this.socketError ??= err;
    this.owner.retire(this);
    if (this.socket !== null) this.socket.destroy();
  }

  /** The response ended: the connection goes back to the pool (or closes), then the exchange is told. */
  private deliverComplete(): void {
    const x = this.finished!;
    this.finished = null;
    // More bytes followed the response in the same read: never read them as the next request's.
    if (this.unsolicited) this.owner.retire(this);
    if (this.paused) this.resume();
    this.owner.connFree(this);
    x.onH1Complete();
  }

  /** The server switched protocols: the socket leaves the pool, with the bytes read past the head. */
  private upgraded(rest: Buffer): void {
    const sock = this.socket!;
    const x = this.x;
    const raw = this.upgradeRaw!;
    this.upgradeRaw = null;
    this.x = null;
    sock.removeListener('data', this.onDataFn);
    sock.removeListener('end', this.onEndFn);
    sock.removeListener('drain', this.onDrainFn);
    sock.pause();
    if (rest.length > 0) sock.unshift(rest);
    this.stopBody();
    const p = this.parser;
    this.parser = null;
    if (p !== null) closeParserSoon(p);
    // Still counted until the tunnel's socket closes.
    this.closed = true;
    this.owner.connDetached(this);
    if (x !== null) x.onH1Upgrade(this.upgradeStatus, raw, sock, this);
    else sock.destroy();
  }

  /** Parked in the pool's idle list: the idle timeout runs from now. */
  parked(): void {
    if (this.idleMs <= 0) return;
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(idleExpired, this.idleMs, this);
      this.idleTimer.unref();
    } else this.idleTimer.refresh();
  }

  /** @internal The idle timer fired. */
  idleExpired(): void {
    // Busy since it was parked: the timer starts again when it is parked next.
    if (this.x === null && !this.closed) this.close();
  }

  /** max_connection_duration reached: close now if idle, else once the current request ends. */
  expire(): void {
    this.maxTimer = null;
    this.owner.retire(this);
    if (this.x === null) this.close();
  }

  /** Closes the connection. */
  close(): void {
    if (this.socket !== null) this.socket.destroy();
    else this.closed = true;
  }

  // ---- the request ----

  private writeRequest(): void {
    if (!this.connected) return;
    const body = this.body;
    if (body === null) {
      const h = this.head!;
      this.head = null;
      this.socket!.write(h.expectsPayload ? `${h.text}content-length: 0\r\n\r\n` : `${h.text}\r\n`, 'latin1');
      return;
    }
    // The head goes with the first chunk, or alone at the end (an empty body then needs no framing).
    body.on('data', this.onBodyDataFn);
    body.once('end', this.onBodyEndFn);
    body.once('error', this.onBodyErrorFn);
    // Stays after the exchange: an error the body stream raises later must not be unhandled.
    body.on('error', ignore);
  }

  /** @internal */
  bodyData(chunk: Buffer): void {
    const sock = this.socket;
    if (sock === null || sock.destroyed) return;
    const h = this.head;
    sock.cork();
    if (h !== null) {
      this.head = null;
      this.chunked = h.contentLength < 0;
      sock.write(
        this.chunked
          ? `${h.text}transfer-encoding: chunked\r\n\r\n`
          : `${h.text}content-length: ${h.contentLength}\r\n\r\n`,
        'latin1',
      );
      // A body on a method that defines none may confuse the server about where the next request starts.
      if (!h.expectsPayload) this.owner.retire(this);
      this.bodyBytes = 0;
      this.expected = h.contentLength;
    }
    this.bodyBytes += chunk.length;
    let ok: boolean;
    if (this.chunked) {
      sock.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      sock.write(chunk);
      ok = sock.write('\r\n', 'latin1');
    } else if (this.bodyBytes > this.expected) {
      sock.uncork();
      this.stopBody();
      this.closeWith(codeError('request body longer than its content-length', INVALID_REQUEST));
      return;
    } else ok = sock.write(chunk);
    sock.uncork();
    if (!ok) this.body!.pause();
  }

  /** @internal */
  bodyEnd(): void {
    const sock = this.socket;
    const h = this.head;
    this.stopBody();
    if (sock === null || sock.destroyed) return;
    if (h !== null) {
      this.head = null;
      if (h.contentLength > 0) {
        this.closeWith(codeError('request body shorter than its content-length', INVALID_REQUEST));
        return;
      }
      sock.write(h.expectsPayload ? `${h.text}content-length: 0\r\n\r\n` : `${h.text}\r\n`, 'latin1');
    } else if (this.chunked) sock.write('0\r\n\r\n', 'latin1');
    else if (this.bodyBytes !== this.expected)
      this.closeWith(codeError('request body shorter than its content-length', INVALID_REQUEST));
  }

  /** @internal */
  bodyError(err: Error): void {
    this.stopBody();
    this.closeWith(err);
  }

  /** Stops reading the request body (written, failed, or the response came first). */
  private stopBody(): void {
    const b = this.body;
    if (b === null) return;
    this.body = null;
    b.removeListener('data', this.onBodyDataFn);
    b.removeListener('end', this.onBodyEndFn);
    b.removeListener('error', this.onBodyErrorFn);
  }

  // ---- the response (llhttp callbacks, run inside execute) ----

  /** @internal */
  messageBegin(): void {
    if (this.x === null) this.unsolicited = true;
  }

  /** @internal Headers delivered in pieces (more than 32), or trailers. */
  headers(raw: string[]): void {
    for (let i = 0; i < raw.length; i++) this.rawAcc.push(raw[i]);
  }

  /** @internal 0: a body may follow; 1: none (HEAD, 1xx, unsolicited); 2: the protocol switches. */
  headersComplete(raw: string[] | undefined, status: number, upgrade: boolean, keepAlive: boolean): number {
    if (raw === undefined) {
      raw = this.rawAcc;
      this.rawAcc = [];
    }
    const x = this.x;
    // No request waits for it, or the connection is already failing.
    if (x === null || this.socketError !== null) return 1;
    // llhttp stops at a 101, or at any head announcing an upgrade without a body: what follows is not HTTP.
    if (status === 101 || upgrade) {
      if (status === 101 && this.askedUpgrade) {
        this.upgradeStatus = status;
        this.upgradeRaw = raw;
        return 2;
      }
      // The exchange fails when the socket has closed.
      this.closeWith(codeError('upstream switched protocols unasked', INVALID_RESPONSE));
      return 1;
    }
    if (status < 200) {
      this.informational = true;
      return 1;
    }
    if (!keepAlive) this.owner.retire(this);
    else this.keepAliveHint(raw);
    x.onH1Head(status, raw, this);
    return this.method === 'HEAD' ? 1 : 0;
  }

  /** @internal */
  bodyChunk(chunk: Buffer): void {
    const x = this.x;
    if (x !== null && !this.informational && this.socketError === null) x.onH1Data(chunk);
  }

  /** @internal */
  messageComplete(): void {
    if (this.rawAcc.length > 0) this.rawAcc = [];
    if (this.informational) {
      this.informational = false;
      return;
    }
    // llhttp ends a 101's message too: the exchange goes on as a tunnel (see `upgraded`), or it fails
    // when the failing connection has closed.
    const x = this.x;
    if (x === null || this.upgradeRaw !== null || this.socketError !== null) return;
    this.x = null;
    // The server answered before the whole body was sent: the connection cannot be reused.
    if (this.body !== null || this.head !== null) {
      this.stopBody();
      this.head = null;
      this.owner.retire(this);
    }
    this.finished = x;
  }

  /** A server's `Keep-Alive: timeout=N` (seconds): idle connections close a second before it would. */
  private keepAliveHint(raw: string[]): void {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = raw[i];
      if (n.length !== 10 || n.toLowerCase() !== 'keep-alive') continue;
      const m = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i.exec(raw[i + 1]);
      if (m === null) return;
      const configured = this.owner.ctx.options.idleTimeoutMs;
      const ms = Math.min(
        Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS,
        configured > 0 ? configured : Infinity,
        MAX_TIMER_MS,
      );
      if (ms <= 0) this.owner.retire(this);
      else if (ms !== this.idleMs) {
        this.idleMs = ms;
        if (this.idleTimer !== null) clearTimeout(this.idleTimer);
        this.idleTimer = null;
      }
      return;
    }
  }

  // ---- H1Stream (the caller's handle) ----

  abort(): void {
    if (this.x === null) return;
    this.x = null;
    this.paused = false;
    this.stopBody();
    this.head = null;
    this.owner.retire(this);
    if (this.socket !== null) this.socket.destroy();
    else this.closed = true;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.socket !== null) this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.socket !== null) this.socket.resume();
  }
}

function ignore(): void {}

function codeError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function expireConnection(c: H1ClientConnection): void {
  c.expire();
}

function idleExpired(c: H1ClientConnection): void {
  c.idleExpired();
}

function onData(this: H1ClientConnection, chunk: Buffer): void {
  this.data(chunk);
}

function onBodyData(this: H1ClientConnection, chunk: Buffer): void {
  this.bodyData(chunk);
}

function onBodyEnd(this: H1ClientConnection): void {
  this.bodyEnd();
}

function onBodyError(this: H1ClientConnection, err: Error): void {
  this.bodyError(err);
}

function onMessageBegin(this: H1ClientConnection): void {
  this.messageBegin();
}

function onHeaders(this: H1ClientConnection, raw: string[]): void {
  this.headers(raw);
}

function onHeadersComplete(
  this: H1ClientConnection,
  _major: number,
  _minor: number,
  raw: string[] | undefined,
  _method: number,
  _url: string | undefined,
  status: number,
  _statusMessage: string,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return this.headersComplete(raw, status, upgrade, keepAlive);
}

function onBody(this: H1ClientConnection, chunk: Buffer): void {
  this.bodyChunk(chunk);
}

function onMessageComplete(this: H1ClientConnection): void {
  this.messageComplete();
}
