// HTTP/1.x downstream: a node:http ServerResponse behind the Downstream interface.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderMap } from '../route/header-mutation.js';
import { HOP_BY_HOP, type Downstream, type DownstreamEvents } from './downstream.js';

/** Adapter over node:http's ServerResponse. */
export class H1Downstream implements Downstream {
  readonly protocol: string;
  bytesSent = 0;
  private ended = false;
  /** The socket's bytesWritten when this response began (-1: not yet). */
  private wireMark = -1;
  /** Set when the connection must close after this response (draining listener). */
  closeAfter = false;
  private readonly onClose: () => void;
  private readonly onDrain: () => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    events: DownstreamEvents,
    /** The request has a body (content-length or chunked); it may still be arriving. */
    private readonly requestHasBody = false,
  ) {
    this.protocol = req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
    this.onClose = () => {
      if (!this.ended || !res.writableFinished) events.onDownstreamReset();
    };
    this.onDrain = () => events.onDownstreamDrain();
    res.on('close', this.onClose);
    res.on('drain', this.onDrain);
    // A write after the connection died is reported as an 'error' event; the close above covers it.
    res.on('error', ignore);
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  respond(status: number, headers: HeaderMap, endStream: boolean): void {
    // One flat [name, value, …] list straight into writeHead: node serializes it into the head at once,
    // without setHeader's per-call bookkeeping (a lower-cased copy of every name in a header object).
    const flat = HEAD;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined || HOP_BY_HOP.has(k) || k.charCodeAt(0) === 58) continue;
      flat.push(k, v);
    }
    if (this.closeAfter || this.requestIncomplete()) flat.push('connection', 'close');
    // Responses on one connection go out in order: what the socket takes from here on is this one's.
    this.wireMark = this.req.socket.bytesWritten;
    try {
      this.res.writeHead(status, flat);
    } finally {
      flat.length = 0;
    }
    if (endStream) this.end(null);
  }

  get wireBytesSent(): number {
    return this.wireMark < 0 ? 0 : this.req.socket.bytesWritten - this.wireMark;
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    if (this.ended || this.res.destroyed) return true;
    return this.res.write(chunk);
  }

  end(_trailers: HeaderMap | null): void {
    // Envoy does not forward trailers over HTTP/1.1 unless enable_trailers is set.
    if (this.ended) return;
    this.ended = true;
    this.res.end();
    // The response ended before the request did (an early 413, a 200 that never read the upload):
    // node would leave the socket paused forever, so the connection closes once the response is out.
    if (this.requestIncomplete()) {
      const sock = this.req.socket;
      if (this.res.writableFinished) sock.destroySoon();
      else this.res.once('finish', () => sock.destroySoon());
    }
  }

  /** True while the request body is still being received. */
  private requestIncomplete(): boolean {
    return this.requestHasBody && !this.req.complete;
  }

  reset(): void {
    this.ended = true;
    this.req.socket.destroy();
  }
}

function ignore(): void {}

/** The one list respond() fills and empties again (writeHead reads it synchronously and keeps none of it). */
const HEAD: (string | string[])[] = [];
