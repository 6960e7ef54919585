// A route's hash_policy compiled once: turns a request into the hash key that RING_HASH / MAGLEV use
// (xxHash64, top 53 bits), creating Envoy's session cookie when the cookie policy has a ttl.
import { combineHash, hash53, xxh64Hex } from '../../upstream/lb/hash/xxhash64.js';
import type { envoy_config_route_v3_RouteAction_HashPolicy as HashPolicyConfig } from '../../../xds/envoy-types.js';
import { durationMs } from '../../util/values.js';
import type { HeaderMap } from './header-mutation.js';

/** What a hash policy reads from a request. */
export interface HashRequest {
  readonly headers: HeaderMap;
  readonly conn: { readonly remoteIp: string; readonly remoteAddress: string; readonly localAddress: string };
  queryParam(name: string): string | undefined;
}

const enum Kind {
  Header,
  Cookie,
  SourceIp,
  Query,
}

/** One compiled hash_policy entry. */
interface Entry {
  readonly kind: Kind;
  /** Header name (lower case), cookie name or query parameter name. */
  readonly name: string;
  readonly terminal: boolean;
  /** Cookie: seconds of Max-Age for a generated cookie; -1 = never generate. */
  readonly ttlSec: number;
  /** Cookie: Path attribute, or ''. */
  readonly path: string;
}

/** The result of hashing one request. */
export interface HashResult {
  /** Hash key, or -1 when no policy produced one. */
  hash: number;
  /** `set-cookie` value to add to the response (generated session cookie), or null. */
  setCookie: string | null;
}

/** A route's ordered hash policies. */
export class HashPolicy {
  private readonly entries: readonly Entry[];

  constructor(list: readonly HashPolicyConfig[]) {
    const out: Entry[] = [];
    for (const p of list) {
      const terminal = p.terminal === true;
      if (p.header) out.push(entry(Kind.Header, String(p.header.headerName ?? '').toLowerCase(), terminal));
      else if (p.cookie) {
        const ttl = p.cookie.ttl !== undefined ? Math.floor(durationMs(p.cookie.ttl, 0) / 1000) : -1;
        out.push({
          kind: Kind.Cookie,
          name: String(p.cookie.name ?? ''),
          terminal,
          ttlSec: ttl,
          path: String(p.cookie.path ?? ''),
        });
      } else if (p.connectionProperties?.sourceIp) out.push(entry(Kind.SourceIp, '', terminal));
      else if (p.queryParameter) out.push(entry(Kind.Query, String(p.queryParameter.name ?? ''), terminal));
      // filter_state keys are not supported: such an entry yields no key.
    }
    this.entries = out;
  }

  /** Hashes a request; `out` is filled in (no allocation unless a cookie is generated). */
  compute(req: HashRequest, out: HashResult): void {
    let hash = -1;
    out.setCookie = null;
    for (const e of this.entries) {
      let h = -1;
      switch (e.kind) {
        case Kind.Header: {
          const v = req.headers[e.name];
          if (v !== undefined) h = hash53(typeof v === 'string' ? v : v.join(','));
          break;
        }
        case Kind.Cookie: {
          const v = cookieValue(req.headers['cookie'], e.name);
          if (v !== null) h = hash53(v);
          else if (e.ttlSec >= 0) {
            // Envoy: the value is xxHash64 of the connection's addresses (same cookie per connection).
            const value = xxh64Hex(req.conn.remoteAddress + req.conn.localAddress);
            out.setCookie = setCookie(e, value);
            h = hash53(value);
          }
          break;
        }
        case Kind.SourceIp:
          if (req.conn.remoteIp) h = hash53(req.conn.remoteIp);
          break;
        case Kind.Query: {
          const v = req.queryParam(e.name);
          if (v !== undefined) h = hash53(v);
          break;
        }
      }
      if (h >= 0) {
        hash = hash < 0 ? h : combineHash(hash, h);
        if (e.terminal) break;
      }
    }
    out.hash = hash;
  }
}

function entry(kind: Kind, name: string, terminal: boolean): Entry {
  return { kind, name, terminal, ttlSec: -1, path: '' };
}

/** Envoy's Set-Cookie for a generated session cookie: `name="value"; Max-Age=ttl; Path=path; HttpOnly`. */
function setCookie(e: Entry, value: string): string {
  let s = `${e.name}="${value}"`;
  if (e.ttlSec > 0) s += `; Max-Age=${e.ttlSec}`;
  if (e.path) s += `; Path=${e.path}`;
  return s + '; HttpOnly';
}

/** The value of cookie `name` in a Cookie header (surrounding double quotes removed), or null. */
export function cookieValue(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null;
  const s = typeof header === 'string' ? header : header.join('; ');
  let i = 0;
  while (i < s.length) {
    while (s.charCodeAt(i) === 32) i++;
    let end = s.indexOf(';', i);
    if (end < 0) end = s.length;
    const eq = s.indexOf('=', i);
    if (eq > 0 && eq < end && s.slice(i, eq).trim() === name) {
      let v = s.slice(eq + 1, end).trim();
      if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1);
      return v;
    }
    i = end + 1;
  }
  return null;
}
