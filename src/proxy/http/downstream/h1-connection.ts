// The HTTP/1.1 server codec of one downstream connection: node's llhttp parses the requests (as strictly
// as node:http does), and responses are written to the socket directly. It replaces node:http's server,
// whose IncomingMessage/ServerResponse streams and per-request bookkeeping cost more than the rest of
// the proxy's HTTP path. One request is served at a time; pipelined requests wait in order.
import type { Socket } from 'node:net';
import {
  closeParserSoon,
  HTTPParser,
  METHODS,
  type NodeHttpParser,
  type ParseError,
} from '../hcm/http-parser.js';
import { H1Downstream } from './h1-downstream.js';
import { H1RequestBody, H1RequestHead, type BodySource } from './h1-request.js';

/** What the codec reports to the HTTP connection manager. */
export interface H1ConnectionHandler {
  /** A request's turn has come (earlier responses on the connection are done): serve it on `ds`. */
  onH1Request(ds: H1Downstream): void;
  /** An Upgrade or CONNECT head: the socket leaves HTTP; `rest` holds the bytes read after the head. */
  onH1Upgrade(head: H1RequestHead, body: H1RequestBody | null, socket: Socket, rest: Buffer): void;
  /** llhttp refused the input; `inFlight` is the response in progress, if any. */
  onH1ParseError(err: ParseError, socket: Socket, inFlight: H1Downstream | null): void;
  /** A request's exchange ended (response done, or the connection closed under it). */
  onH1StreamEnd(ds: H1Downstream): void;
}

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = HTTPParser;

/** node:http's test for an Expect header it answers itself with 100 Continue. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** One HTTP/1.1 downstream connection. */
export class H1Connection implements BodySource {
  private parser: NodeHttpParser | null;
  /** The response in progress (one at a time). */
  active: H1Downstream | null = null;
  /** Requests parsed while a response was in progress (pipelining), in arrival order. */
  private readonly queue: H1Downstream[] = [];
  /** Body of the message being parsed, until its end. */
  private receiving: H1RequestBody | null = null;
  /** Headers and URL delivered in pieces (more than 32 headers). */
  private rawAcc: string[] = [];
  private urlAcc = '';
  private upgradeHead: H1RequestHead | null = null;
  private upgradeBody: H1RequestBody | null = null;
  /** Reading paused: a body reader fell behind / requests are queued / the client is not reading responses. */
  private bodyPaused = false;
  private queuePaused = false;
  private outPaused = false;
  private corked = false;
  /** No more requests are served: the connection closes after the current response. */
  closing = false;
  /** The socket closed. */
  destroyed = false;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;

  constructor(
    readonly socket: Socket,
    private readonly handler: H1ConnectionHandler,
    maxHeaderSize: number,
  ) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, HTTPParser.kLenientNone);
    p[kOnHeaders] = onHeaders.bind(this);
    p[kOnHeadersComplete] = onHeadersComplete.bind(this);
    p[kOnBody] = onBody.bind(this);
    p[kOnMessageComplete] = onMessageComplete.bind(this);
    this.parser = p;
    this.onData = onData.bind(this);
    this.onEnd = onEnd.bind(this);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', onDrain.bind(this));
    socket.once('close', onClose.bind(this));
  }

  // ---- parser callbacks (run synchronously inside execute) ----

  /** @internal */
  headers(raw: string[], url: string): void {
    for (let i = 0; i < raw.length; i++) this.rawAcc.push(raw[i]);
    this.urlAcc += url;
  }

  /** @internal Returns 2 for an upgrade (llhttp then skips any body and stops), else 0. */
  headersComplete(
    major: number,
    minor: number,
    raw: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    if (raw === undefined) {
      raw = this.rawAcc;
      this.rawAcc = [];
    }
    if (url === undefined || url === '') {
      url = this.urlAcc;
      this.urlAcc = '';
    }
    const head = new H1RequestHead(METHODS[method] ?? '', url, major, minor, raw, keepAlive);
    const h = head.headers;
    const cl = h['content-length'];
    const hasBody = (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined;
    const body = hasBody || upgrade ? new H1RequestBody(this) : null;
    this.receiving = body;
    if (upgrade) {
      this.upgradeHead = head;
      this.upgradeBody = body;
      return 2;
    }
    if (this.closing) return 0;
    const ds = new H1Downstream(this, head, body);
    if (this.active === null && this.queue.length === 0 && !this.outPaused) this.begin(ds);
    else {
      this.queue.push(ds);
      this.queuePaused = true;
      this.updateReading();
    }
    return 0;
  }

  /** @internal */
  body(chunk: Buffer): void {
    const b = this.receiving;
    if (b !== null && !b.push(chunk)) {
      this.bodyPaused = true;
      this.updateReading();
    }
  }

  /** @internal */
  messageComplete(): void {
    const b = this.receiving;
    if (b !== null) {
      this.receiving = null;
      b.complete = true;
      b.push(null);
    }
    // Trailers arrive through the headers callback; HTTP/1.1 trailers are not forwarded (Envoy's default).
    if (this.rawAcc.length > 0) this.rawAcc = [];
    this.urlAcc = '';
  }

  // ---- socket events ----

  /** @internal */
  data(chunk: Buffer): void {
    const p = this.parser;
    if (p === null) return;
    let r: number | ParseError;
    try {
      r = p.execute(chunk);
    } catch {
      // A handler threw inside a parser callback: the parser state is unknown, the connection ends.
      this.stopParsing();
      this.socket.destroy();
      return;
    }
    if (typeof r !== 'number') {
      this.stopParsing();
      this.handler.onH1ParseError(r, this.socket, this.active);
      return;
    }
    const up = this.upgradeHead;
    if (up !== null) {
      const body = this.upgradeBody;
      this.upgradeHead = null;
      this.upgradeBody = null;
      this.stopParsing();
      // Nothing reads the socket until the tunnel pipes it (or the reply closes it).
      this.socket.pause();
      if (body !== null && !body.complete) {
        body.complete = true;
        body.push(null);
      }
      this.handler.onH1Upgrade(up, body, this.socket, chunk.subarray(r));
    }
  }

  /** @internal The client closed its side: as with node:http's server, unfinished requests are aborted and the connection ends. */
  end(): void {
    const p = this.parser;
    if (p !== null) {
      const r = p.finish();
      if (r !== undefined && typeof r !== 'number') {
        this.stopParsing();
        this.handler.onH1ParseError(r, this.socket, this.active);
        return;
      }
    }
    this.closing = true;
    if (this.socket.writable) this.socket.end();
  }

  /** @internal */
  drained(): void {
    if (this.outPaused) {
      this.outPaused = false;
      this.updateReading();
      if (this.active === null && this.queue.length > 0) this.beginQueued();
    }
    this.active?.drained();
  }

  /** @internal */
  closed(): void {
    this.destroyed = true;
    this.closing = true;
    this.stopParsing();
    const b = this.receiving;
    this.receiving = null;
    if (b !== null && !b.complete) b.destroy();
    const a = this.active;
    this.active = null;
    this.queue.length = 0;
    if (a !== null) {
      if (a.body !== null && !a.body.complete) a.body.destroy();
      a.connectionClosed();
      this.handler.onH1StreamEnd(a);
    }
  }

  // ---- requests and responses ----

  private begin(ds: H1Downstream): void {
    this.active = ds;
    const h = ds.head;
    const expect = h.headers['expect'];
    if (typeof expect === 'string') {
      // node:http's server answers Expect itself: 100 Continue for HTTP/1.1 100-continue, 417 otherwise.
      if (h.http11 && CONTINUE.test(expect)) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
      else {
        ds.expectationFailed();
        return;
      }
    }
    this.handler.onH1Request(ds);
  }

  /** Called by the response once it is complete. */
  responseEnded(ds: H1Downstream): void {
    if (this.active !== ds) return;
    this.active = null;
    this.handler.onH1StreamEnd(ds);
    if (this.destroyed) return;
    // A response that ends before its request (an early 413, a reply that never read the upload)
    // closes the connection, as does one sent with `connection: close`.
    if (ds.closeConnection || (ds.body !== null && !ds.body.complete)) {
      this.closing = true;
      this.queue.length = 0;
      this.stopParsing();
      this.socket.destroySoon();
      return;
    }
    // A client that does not read its responses gets no more served (nor read) until it does, as with
    // node:http's server: the responses' bytes waiting in the socket stay bounded.
    if (this.socket.writableNeedDrain) {
      this.outPaused = true;
      this.updateReading();
    } else if (this.queue.length > 0) process.nextTick(beginQueued, this);
  }

  /** @internal Starts the next pipelined request. */
  beginQueued(): void {
    if (this.active !== null || this.destroyed || this.outPaused) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    if (this.queue.length === 0) {
      this.queuePaused = false;
      this.updateReading();
    }
    this.begin(next);
  }

  /** The body reader wants more: read from the socket again. */
  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.updateReading();
  }

  private updateReading(): void {
    // Once parsing stopped (upgrade, parse error, closing) the socket's reading is no longer the codec's.
    if (this.destroyed || this.parser === null) return;
    const pause = this.bodyPaused || this.queuePaused || this.outPaused;
    if (pause) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused()) this.socket.resume();
  }

  /** Corks the socket until the end of this tick, so one response's head, body and end leave in one write. */
  cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(uncork, this);
  }

  /** @internal */
  uncork(): void {
    this.corked = false;
    if (!this.destroyed) this.socket.uncork();
  }

  private stopParsing(): void {
    const p = this.parser;
    if (p === null) return;
    this.parser = null;
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onEnd);
    // Freed after the current execute() has returned (this may run inside one of its callbacks).
    closeParserSoon(p);
  }
}

function beginQueued(c: H1Connection): void {
  c.beginQueued();
}

function uncork(c: H1Connection): void {
  c.uncork();
}

function onData(this: H1Connection, chunk: Buffer): void {
  this.data(chunk);
}

function onEnd(this: H1Connection): void {
  this.end();
}

function onDrain(this: H1Connection): void {
  this.drained();
}

function onClose(this: H1Connection): void {
  this.closed();
}

function onHeaders(this: H1Connection, raw: string[], url: string): void {
  this.headers(raw, url);
}

function onHeadersComplete(
  this: H1Connection,
  major: number,
  minor: number,
  raw: string[] | undefined,
  method: number,
  url: string | undefined,
  _status: unknown,
  _statusMessage: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return this.headersComplete(major, minor, raw, method, url, upgrade, keepAlive);
}

function onBody(this: H1Connection, chunk: Buffer): void {
  this.body(chunk);
}

function onMessageComplete(this: H1Connection): void {
  this.messageComplete();
}
