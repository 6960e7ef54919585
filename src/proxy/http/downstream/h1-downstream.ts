// HTTP/1.x downstream: one request of an H1Connection and its response, written on the socket by hand
// (status line and headers in one string, framed by content-length, chunked encoding or the connection's
// close), with the keep-alive, Date and body rules node:http's ServerResponse applied before.
import { STATUS_CODES } from 'node:http';
import { hasInvalidHeaderChar, isHttpToken } from '../hcm/http-parser.js';
import type { HeaderMap } from '../route/header-mutation.js';
import { HOP_BY_HOP, httpDate, type Downstream, type DownstreamEvents } from './downstream.js';
import type { H1Connection } from './h1-connection.js';
import type { H1RequestBody, H1RequestHead } from './h1-request.js';

const NO_EVENTS: DownstreamEvents = { onDownstreamReset() {}, onDownstreamDrain() {} };

/** The response side of one HTTP/1.x request. */
export class H1Downstream implements Downstream {
  readonly protocol: string;
  bytesSent = 0;
  headersSent = false;
  /** Set when the connection must close after this response (draining listener, refused head). */
  closeAfter = false;
  /** The connection closes once this response is out (decided with the head). */
  closeConnection = false;
  /** The HCM's request (set before it starts). */
  events: DownstreamEvents = NO_EVENTS;
  private ended = false;
  private chunked = false;
  private noBody = false;
  /** The head, until the first body bytes or the end carry it out. */
  private pendingHead: string | null = null;
  /** socket.bytesWritten when this response began (-1: not yet). */
  private wireMark = -1;

  constructor(
    readonly conn: H1Connection,
    readonly head: H1RequestHead,
    /** The request body, or null when the request has none. */
    readonly body: H1RequestBody | null,
  ) {
    this.protocol = head.httpVersionMajor === 1 && head.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
  }

  respond(status: number, headers: HeaderMap, endStream: boolean): void {
    const req = this.head;
    // node:http's rules: HEAD, 1xx, 204 and 304 responses carry no body.
    const noBody =
      req.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let contentLength = false;
    let date = false;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined || HOP_BY_HOP.has(k) || k.charCodeAt(0) === 58) continue;
      if (!isHttpToken(k))
        throw new TypeError(`response header name is not a valid HTTP token: ${JSON.stringify(k)}`);
      if (typeof v === 'string') {
        if (hasInvalidHeaderChar(v)) throw new TypeError(`invalid character in response header ${k}`);
        s += `${k}: ${v}\r\n`;
      } else
        for (const x of v) {
          if (hasInvalidHeaderChar(x)) throw new TypeError(`invalid character in response header ${k}`);
          s += `${k}: ${x}\r\n`;
        }
      if (k === 'content-length') contentLength = true;
      else if (k === 'date') date = true;
    }
    if (!date) s += `date: ${httpDate()}\r\n`;
    // Keep-alive needs a delimited body: a content-length, or chunked encoding (HTTP/1.1 only).
    const keepAlive =
      req.shouldKeepAlive &&
      (contentLength || req.http11) &&
      !this.closeAfter &&
      !this.conn.closing &&
      !this.requestIncomplete();
    s += keepAlive ? 'connection: keep-alive\r\n' : 'connection: close\r\n';
    if (!contentLength && !noBody && req.http11) {
      s += 'transfer-encoding: chunked\r\n';
      this.chunked = true;
    }
    this.noBody = noBody;
    this.closeConnection = !keepAlive;
    this.headersSent = true;
    this.pendingHead = `${s}\r\n`;
    // Responses on one connection go out in order: what the socket takes from here on is this one's.
    this.wireMark = this.conn.socket.bytesWritten;
    if (endStream) this.end(null);
  }

  get wireBytesSent(): number {
    return this.wireMark < 0 ? 0 : this.conn.socket.bytesWritten - this.wireMark;
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    if (this.ended || this.conn.destroyed || this.noBody || chunk.length === 0) return true;
    const sock = this.conn.socket;
    this.conn.cork();
    const head = this.pendingHead;
    if (head !== null) {
      this.pendingHead = null;
      sock.write(head, 'latin1');
    }
    if (!this.chunked) return sock.write(chunk);
    sock.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    sock.write(chunk);
    return sock.write('\r\n', 'latin1');
  }

  end(_trailers: HeaderMap | null): void {
    // Envoy does not forward trailers over HTTP/1.1 unless enable_trailers is set.
    if (this.ended) return;
    this.ended = true;
    if (!this.conn.destroyed) {
      const sock = this.conn.socket;
      const head = this.pendingHead;
      if (head !== null || (this.chunked && !this.noBody)) this.conn.cork();
      if (head !== null) {
        this.pendingHead = null;
        sock.write(head, 'latin1');
      }
      if (this.chunked && !this.noBody) sock.write('0\r\n\r\n', 'latin1');
    }
    this.conn.responseEnded(this);
  }

  reset(): void {
    this.ended = true;
    this.conn.socket.destroy();
  }

  /** @internal The socket can take more. */
  drained(): void {
    if (!this.ended) this.events.onDownstreamDrain();
  }

  /** @internal The connection closed while this request was in progress. */
  connectionClosed(): void {
    if (!this.ended) {
      this.ended = true;
      this.events.onDownstreamReset();
    }
  }

  /** @internal An Expect header other than 100-continue: node:http's 417, and the request goes no further. */
  expectationFailed(): void {
    this.respond(417, { 'content-length': '0' }, true);
  }

  /** True while the request body is still being received. */
  private requestIncomplete(): boolean {
    return this.body !== null && !this.body.complete;
  }
}
