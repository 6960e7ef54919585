// HTTP/2 downstream: a ServerHttp2Stream behind the Downstream interface (trailers, RST_STREAM).
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { HeaderMap } from '../route/header-mutation.js';
import { HOP_BY_HOP, type Downstream, type DownstreamEvents } from './downstream.js';
import { h2ResponseHeaderBytes } from '../hcm/wire-bytes.js';

/** Adapter over a raw server-side HTTP/2 stream. */
export class H2Downstream implements Downstream {
  readonly protocol = 'HTTP/2';
  bytesSent = 0;
  /** Response header bytes (Envoy's header map byte size). */
  private headerBytes = 0;
  private sent = false;
  private ended = false;
  private trailers: HeaderMap | null = null;
  private readonly onClose: () => void;
  private readonly onDrain: () => void;
  private readonly onWantTrailers: () => void;

  constructor(
    private readonly stream: ServerHttp2Stream,
    events: DownstreamEvents,
  ) {
    this.onClose = () => {
      if (!this.ended || stream.rstCode !== constants.NGHTTP2_NO_ERROR) events.onDownstreamReset();
    };
    this.onDrain = () => events.onDownstreamDrain();
    this.onWantTrailers = () => {
      const t = this.trailers ?? {};
      try {
        stream.sendTrailers(clean(t, false));
      } catch {
        stream.close();
      }
    };
    stream.on('close', this.onClose);
    stream.on('drain', this.onDrain);
    stream.on('error', () => {});
  }

  get headersSent(): boolean {
    return this.sent;
  }

  respond(status: number, headers: HeaderMap, endStream: boolean, waitTrailers: boolean): void {
    if (this.stream.destroyed) return;
    const h: Record<string, string | string[] | number> = clean(headers, true);
    this.headerBytes = h2ResponseHeaderBytes(status, h as Record<string, string | string[]>);
    h[':status'] = status;
    this.sent = true;
    if (waitTrailers && !endStream) this.stream.once('wantTrailers', this.onWantTrailers);
    this.stream.respond(h, { endStream, waitForTrailers: waitTrailers && !endStream });
    if (endStream) this.ended = true;
  }

  get wireBytesSent(): number {
    return this.headerBytes + this.bytesSent;
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    if (this.stream.destroyed) return true;
    return this.stream.write(chunk);
  }

  end(trailers: HeaderMap | null): void {
    if (this.ended) return;
    this.ended = true;
    this.trailers = trailers;
    if (!this.stream.destroyed) this.stream.end();
  }

  reset(): void {
    this.ended = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function clean(headers: HeaderMap, response: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || (response && k.charCodeAt(0) === 58)) continue;
    out[k] = v;
  }
  return out;
}
