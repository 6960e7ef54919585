// The header block of an upstream HTTP/2 request: pseudo-headers first, then the request's headers minus
// the HTTP/1.1 connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2), which Node's http2 rejects.
import type { HeaderMap } from '../../route/header-mutation.js';

/** Headers for `ClientHttp2Session.request` from a routed request (regular or shadow). */
export function h2RequestHeaders(
  method: string,
  path: string,
  authority: string,
  scheme: string,
  headers: HeaderMap,
): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {
    ':method': method,
    ':path': path,
    ':authority': authority,
    ':scheme': scheme,
  };
  for (const k in headers) {
    const v = headers[k];
    if (
      v === undefined ||
      k === 'host' ||
      k === 'connection' ||
      k === 'keep-alive' ||
      k === 'upgrade' ||
      k === 'transfer-encoding' ||
      k === 'proxy-connection'
    )
      continue;
    // `te` is allowed only as `trailers` (gRPC sends it).
    if (k === 'te' && v !== 'trailers') continue;
    h[k] = v;
  }
  return h;
}
