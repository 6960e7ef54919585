// Why a route did not match, in words, from the mismatch code the data plane's matcher returns.
import {
  MISMATCH_GRPC,
  MISMATCH_HEADER,
  MISMATCH_PATH,
  MISMATCH_QUERY,
  MISMATCH_RUNTIME,
  type RouteRequest,
} from '../../proxy/http/route/route-entry.js';
import { headerValue } from '../../proxy/matchers/header-matcher.js';
import type { Envoy } from '../envoy.js';
import { obj, arr } from './shape.js';

/** One line saying which part of `match` failed for `req` (code from RouteEntry.mismatch). */
export function describeMismatch(code: number, match: Envoy | undefined, req: RouteRequest): string {
  const m = obj(match);
  if (code === MISMATCH_PATH) return `path ${req.pathOnly} does not match ${pathSpec(m)}`;
  if (code === MISMATCH_GRPC) return 'the route takes gRPC requests only';
  if (code === MISMATCH_RUNTIME) return 'not selected by the runtime fraction';
  if (code >= MISMATCH_QUERY) {
    const q = obj(arr(m.queryParameters)[code - MISMATCH_QUERY]);
    const v = req.queryParam(String(q.name));
    const have = v === undefined ? 'is absent' : `is "${v}"`;
    return `query parameter ${String(q.name)} ${have}; the route wants ${stringSpec(q.stringMatch, q.presentMatch)}`;
  }
  if (code >= MISMATCH_HEADER) {
    const h = obj(arr(m.headers)[code - MISMATCH_HEADER]);
    const name = String(h.name ?? '').toLowerCase();
    const v = headerValue(req, name);
    const have = v === undefined ? 'is absent' : `is "${v}"`;
    const want = stringSpec(h.stringMatch ?? legacyHeaderMatch(h), h.presentMatch);
    return `header ${name} ${have}; the route wants ${h.invertMatch === true ? 'not ' : ''}${want}`;
  }
  return `mismatch code ${code}`;
}

function pathSpec(m: Envoy): string {
  if (m.path !== undefined) return `exact path ${String(m.path)}`;
  if (m.safeRegex !== undefined) return `regex ${String(obj(m.safeRegex).regex)}`;
  if (m.pathSeparatedPrefix !== undefined) return `path-separated prefix ${String(m.pathSeparatedPrefix)}`;
  return `prefix ${String(m.prefix ?? '')}`;
}

function legacyHeaderMatch(h: Envoy): Envoy | undefined {
  if (h.exactMatch !== undefined) return { exact: h.exactMatch };
  if (h.prefixMatch !== undefined) return { prefix: h.prefixMatch };
  if (h.suffixMatch !== undefined) return { suffix: h.suffixMatch };
  if (h.safeRegexMatch !== undefined) return { safeRegex: h.safeRegexMatch };
  return undefined;
}

/** `exact "jason"`, `prefix "/a"`, `regex "…"`, `present`, `absent`. */
function stringSpec(s: unknown, present: unknown): string {
  if (s === undefined) return present === false ? 'it absent' : 'it present';
  const m = obj(s);
  for (const k of ['exact', 'prefix', 'suffix', 'contains'])
    if (m[k] !== undefined) return `${k} "${String(m[k])}"${m.ignoreCase === true ? ' (any case)' : ''}`;
  if (m.safeRegex !== undefined) return `regex "${String(obj(m.safeRegex).regex)}"`;
  return JSON.stringify(s);
}
