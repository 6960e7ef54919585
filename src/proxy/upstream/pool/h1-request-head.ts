// An HTTP/1.1 request head as the upstream connection writes it: request line, headers, and the
// `connection` header the pool decides. Everything is checked before a byte is written: a method or header
// name that is not a token, a path or value with a control character (CR/LF included, so nothing a filter
// adds can split the request), or a header the pool owns (framing, upgrade, expect) makes it an error.
import type { H1Request } from './conn-pool.js';
import { hasInvalidHeaderChar, isHttpToken } from '../../http/hcm/http-parser.js';

/** Error code of a request the codec refuses to write (a protocol error, like undici's invalid-argument). */
export const INVALID_REQUEST = 'ERR_H1_INVALID_REQUEST';

/** Methods whose semantics define a body: an empty one is sent with `content-length: 0` (RFC 9110 §8.6). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/** A request target byte outside visible ASCII and obs-text (space and controls included). */
const BAD_PATH = /[^\x21-\xff]/;

/** Headers the connection writes itself (framing and upgrade), or refuses to send. */
const OWNED = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Lengths of the header names handled apart (host, expect, upgrade, connection/keep-alive, content-length, transfer-encoding). */
const SPECIAL_LENGTHS = new Set([4, 6, 7, 10, 14, 17]);

/** A serialized head, without the framing header and the final CRLF (those depend on the body). */
export interface RequestHead {
  /** Request line, `host`, `connection`, then the request's other headers, each line ending in CRLF. */
  text: string;
  /** The request's `content-length`, or -1 when it has none. */
  contentLength: number;
  /** The method defines a body (an empty one is announced with `content-length: 0`). */
  expectsPayload: boolean;
  /** The request asked for `connection: close`. */
  close: boolean;
}

/** Builds `req`'s head; `keepAlive` false writes `connection: close`. A string is the reason it is refused. */
export function requestHead(req: H1Request, keepAlive: boolean): RequestHead | string {
  const method = req.method;
  if (!isHttpToken(method)) return 'invalid method';
  const path = req.path;
  if (path.length === 0 || BAD_PATH.test(path)) return 'invalid request path';
  let text = '';
  let host = '';
  let contentLength = -1;
  let close = false;
  const h = req.headers;
  for (const key in h) {
    const v = h[key];
    if (v === undefined) continue;
    if (!isHttpToken(key)) return 'invalid header name';
    // The proxy's header maps have lower-case names; one that slipped through mixed-case must not escape
    // the checks below (only names as long as host/expect/upgrade/connection/content-length/
    // transfer-encoding are compared in lower case).
    const name = SPECIAL_LENGTHS.has(key.length) ? key.toLowerCase() : key;
    if (name === 'content-length') {
      if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) return 'invalid content-length header';
      contentLength = Number(v);
      continue;
    }
    if (name === 'host') {
      // First after the request line, as Envoy and undici write it.
      if (typeof v !== 'string' || hasInvalidHeaderChar(v)) return 'invalid host header';
      host = `host: ${v}\r\n`;
      continue;
    }
    if (name === 'connection') {
      // Hop-by-hop: the pool decides; a `close` token only retires the connection.
      if (/(?:^|[\s,])close(?:$|[\s,])/i.test(String(v))) close = true;
      continue;
    }
    if (OWNED.has(name)) return `invalid ${name} header`;
    if (typeof v === 'string') {
      if (hasInvalidHeaderChar(v)) return `invalid ${name} header`;
      text += `${name}: ${v}\r\n`;
    } else
      for (let i = 0; i < v.length; i++) {
        if (hasInvalidHeaderChar(v[i])) return `invalid ${name} header`;
        text += `${name}: ${v[i]}\r\n`;
      }
  }
  let line = `${method} ${path} HTTP/1.1\r\n${host}`;
  if (req.upgrade !== null) {
    if (hasInvalidHeaderChar(req.upgrade)) return 'invalid upgrade protocol';
    line += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
  } else line += keepAlive && !close ? 'connection: keep-alive\r\n' : 'connection: close\r\n';
  return { text: line + text, contentLength, expectsPayload: EXPECTS_PAYLOAD.has(method), close };
}
