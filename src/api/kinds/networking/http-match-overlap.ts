// VirtualService HTTP matches that an earlier URI-prefix match already takes (Istio's overlapping-match warning).
//
// Istio warns (VirtualServiceIneffectiveMatch, IST0131) when a match with a longer URI prefix comes
// after one with a shorter prefix and no narrower conditions: the first match wins, so the later one
// never sees a request. The usual case is `/api` listed before `/api/v2`.
import { child, type At, type Checker } from '../../schema.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch } from './virtual-service.js';

/** A match condition together with where it sits. */
interface Located {
  readonly m: HTTPMatchRequest;
  readonly index: number;
  readonly label: string;
}

/** True when every value `b` accepts is accepted by `a` (an absent `a` accepts anything). */
function stringCovers(a: StringMatch | undefined, b: StringMatch | undefined): boolean {
  if (!a) return true;
  if (!b) return false;
  if (a.exact !== undefined) return b.exact === a.exact;
  if (a.prefix !== undefined) {
    const v = b.exact ?? b.prefix;
    return v !== undefined && v.startsWith(a.prefix);
  }
  if (a.regex !== undefined) return b.regex === a.regex;
  return true; // `{}`: the header only has to be present, which any condition on it implies
}

/** True when each keyed condition of `a` is implied by the same key's condition in `b`. */
function mapCovers(
  a: Record<string, StringMatch> | undefined,
  b: Record<string, StringMatch> | undefined,
  lower: boolean,
): boolean {
  if (!a) return true;
  const bl = new Map<string, StringMatch>();
  for (const [k, v] of Object.entries(b ?? {})) bl.set(lower ? k.toLowerCase() : k, v);
  return Object.entries(a).every(([k, v]) => {
    const other = bl.get(lower ? k.toLowerCase() : k);
    return other !== undefined && stringCovers(v, other);
  });
}

/** `withoutHeaders` of `a` must all be required by `b` too, with the same condition. */
function absentCovers(a: HTTPMatchRequest, b: HTTPMatchRequest): boolean {
  const bw = new Map(Object.entries(b.withoutHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(a.withoutHeaders ?? {}).every(([k, v]) => {
    const o = bw.get(k.toLowerCase());
    return o !== undefined && JSON.stringify(o) === JSON.stringify(v);
  });
}

/** Conditions decided outside the request (or by its case handling): they must be the same on both. */
function sameContext(a: HTTPMatchRequest, b: HTTPMatchRequest): boolean {
  const ctx = (m: HTTPMatchRequest): string =>
    JSON.stringify([
      m.ignoreUriCase ?? false,
      Object.entries(m.sourceLabels ?? {}).sort(),
      [...(m.gateways ?? [])].sort(),
      m.sourceNamespace ?? '',
    ]);
  return ctx(a) === ctx(b);
}

/** True when every request `b` matches is matched by the URI-prefix match `a`. */
export function prefixMatchCovers(a: HTTPMatchRequest, b: HTTPMatchRequest): boolean {
  const prefix = a.uri?.prefix;
  if (prefix === undefined || !a.uri || a.uri.exact !== undefined || a.uri.regex !== undefined) return false;
  const bUri = b.uri?.prefix ?? b.uri?.exact;
  if (bUri === undefined || !bUri.startsWith(prefix)) return false;
  if (a.port !== undefined && a.port !== b.port) return false;
  return (
    sameContext(a, b) &&
    stringCovers(a.method, b.method) &&
    stringCovers(a.authority, b.authority) &&
    stringCovers(a.scheme, b.scheme) &&
    mapCovers(a.headers, b.headers, true) &&
    mapCovers(a.queryParams, b.queryParams, false) &&
    absentCovers(a, b)
  );
}

/**
 * Warns (IST0131) at each HTTP match an earlier URI-prefix match already takes. Identical matches
 * (reported by the duplicate check as `same`) and rules after a catch-all (reported as unreachable)
 * are left to those checks; a delegating rule covers nothing, since requests its delegate does not
 * route fall through to later rules.
 */
export function warnCoveredPrefixMatches(
  rules: readonly HTTPRoute[],
  listAt: At,
  c: Checker,
  same: (a: HTTPMatchRequest, b: HTTPMatchRequest) => boolean,
): void {
  const earlier: Located[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (!r.match?.length) return; // a catch-all: everything after it is unreachable anyway
    const label = r.name ? `"${r.name}"` : `#${i}`;
    const ruleAt = child(listAt, rules, i);
    r.match.forEach((m, j) => {
      const by = earlier.find((e) => !same(e.m, m) && prefixMatchCovers(e.m, m));
      if (by)
        c.warn(
          child(child(ruleAt, r, 'match'), r.match!, j),
          `match #${j} of http rule ${label} is never used: match #${by.index} of rule ${by.label} (uri prefix ${JSON.stringify(by.m.uri?.prefix)}) comes first and takes every request it would match`,
          'IST0131',
        );
      if (!r.delegate) earlier.push({ m, index: j, label });
    });
  }
}
