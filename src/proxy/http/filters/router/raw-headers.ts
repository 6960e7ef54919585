// An HTTP/1.1 message's raw header list ([name, value, ...] as received, latin1 strings from llhttp) as the
// header object the proxy passes on, with the duplicate rules node:http's IncomingMessage.headers applies (so
// messages read the same as they did when both sides were node:http).
import type { HeaderMap } from '../../route/header-mutation.js';

/** Headers of which node:http keeps only the first occurrence. */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * Lower-cased names; `set-cookie` always an array; repeated `cookie` joined with "; ", repeated others with
 * ", " except those node:http keeps once.
 */
export function stringHeadersToMap(raw: readonly string[]): HeaderMap {
  const h: HeaderMap = {};
  for (let i = 0; i + 1 < raw.length; i += 2) addHeader(h, raw[i].toLowerCase(), raw[i + 1]);
  return h;
}

/** Adds one header (lower-cased name) with node:http's duplicate rules. */
function addHeader(h: HeaderMap, name: string, value: string): void {
  const prev = h[name];
  if (name === 'set-cookie') {
    if (prev === undefined) h[name] = [value];
    else (prev as string[]).push(value);
  } else if (prev === undefined) h[name] = value;
  else if (name === 'cookie') h[name] = `${prev as string}; ${value}`;
  else if (!FIRST_ONLY.has(name)) h[name] = `${prev as string}, ${value}`;
}
