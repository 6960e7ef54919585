// The downstream (client-facing) side of one HTTP stream, the same for HTTP/1.1, HTTP/2 and raw upgrades.
import type { HeaderMap } from '../route/header-mutation.js';

/** What a downstream adapter reports back to the request it carries. */
export interface DownstreamEvents {
  /** The client reset the stream or closed the connection before the response completed. */
  onDownstreamReset(): void;
  /** The client can take more response data after write() returned false. */
  onDownstreamDrain(): void;
}

/** Response side of one downstream stream. */
export interface Downstream {
  /** `HTTP/1.0`, `HTTP/1.1` or `HTTP/2` (Envoy's %PROTOCOL%). */
  readonly protocol: string;
  /** True once response headers went out. */
  readonly headersSent: boolean;
  /** Sends response headers (`waitTrailers`: HTTP/2 will send trailers later). */
  respond(status: number, headers: HeaderMap, endStream: boolean, waitTrailers: boolean): void;
  /** Writes body bytes; false means wait for onDownstreamDrain. */
  write(chunk: Buffer): boolean;
  /** Ends the response, with trailers when the protocol carries them. */
  end(trailers: HeaderMap | null): void;
  /** Aborts the stream (HTTP/2 RST_STREAM, HTTP/1.1 connection close). */
  reset(): void;
  /** Bytes of response body written so far. */
  readonly bytesSent: number;
  /**
   * Response bytes on the wire so far, head included (Istio's istio_response_bytes): HTTP/1.x as written
   * to the socket (status line, headers, body and its chunked framing); HTTP/2 header names and values
   * plus DATA payload.
   */
  readonly wireBytesSent: number;
}

let dateSecond = 0;
let dateValue = '';

/** The `date` header value, recomputed at most once per second. */
export function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** Hop-by-hop headers that never cross the proxy (RFC 9110 §7.6.1, plus HTTP/2's forbidden ones). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
]);
