// HTTP/1.1 Upgrade (WebSocket) downstream: the raw client socket node:http hands over on 'upgrade'.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { HeaderMap } from '../route/header-mutation.js';
import type { Downstream, DownstreamEvents } from './downstream.js';

/** Writes an HTTP/1.1 response by hand on a socket Node has detached from its HTTP parser. */
export class UpgradeDownstream implements Downstream {
  readonly protocol = 'HTTP/1.1';
  bytesSent = 0;
  headersSent = false;
  /** Length of the response head written by hand (latin1: one byte per character). */
  private headBytes = 0;
  private ended = false;
  private readonly onClose: () => void;
  private readonly onDrain: () => void;

  constructor(
    readonly socket: Socket,
    events: DownstreamEvents,
  ) {
    this.onClose = () => {
      if (!this.ended) events.onDownstreamReset();
    };
    this.onDrain = () => events.onDownstreamDrain();
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('error', () => {});
  }

  respond(status: number, headers: HeaderMap, endStream: boolean): void {
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined || k.charCodeAt(0) === 58) continue;
      if (
        status !== 101 &&
        (k === 'connection' || k === 'transfer-encoding' || k === 'keep-alive' || k === 'upgrade')
      )
        continue;
      if (typeof v === 'string') head += `${k}: ${v}\r\n`;
      else for (const x of v) head += `${k}: ${x}\r\n`;
    }
    // A non-101 reply on an upgrade request is delimited by closing the connection.
    if (status !== 101) head += 'connection: close\r\n';
    head += '\r\n';
    this.headersSent = true;
    this.headBytes = head.length;
    this.socket.write(head);
    if (endStream) this.end(null);
  }

  get wireBytesSent(): number {
    return this.headBytes + this.bytesSent;
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    return this.socket.write(chunk);
  }

  end(_trailers: HeaderMap | null): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end();
  }

  reset(): void {
    this.ended = true;
    this.socket.destroy();
  }

  /** Marks the stream as finished without touching the socket (it was handed to a tunnel). */
  detach(): void {
    this.ended = true;
    this.socket.removeListener('close', this.onClose);
    this.socket.removeListener('drain', this.onDrain);
  }
}
