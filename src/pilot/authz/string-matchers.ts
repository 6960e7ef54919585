// Istio's conversions of policy values ("*", "prefix*", "*suffix", exact) into Envoy matchers.
import type {
  envoy_config_route_v3_HeaderMatcher as HeaderMatcher,
  envoy_type_matcher_v3_MetadataMatcher as MetadataMatcher,
  envoy_type_matcher_v3_StringMatcher as StringMatcher,
  envoy_type_matcher_v3_ValueMatcher as ValueMatcher,
} from '../../xds/envoy-types.js';

/** RE2 quoting of a literal. */
export function quoteRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A safe_regex StringMatcher. */
export function regexMatcher(regex: string): StringMatcher {
  return { safeRegex: { regex } };
}

/**
 * Istio's StringMatcherWithPrefix: `*` → any non-empty, `*x` → suffix (regex when a prefix is
 * added), `x*` → prefix, else exact; `prefix` is prepended (e.g. `spiffe://` for principals).
 */
export function stringMatcher(v: string, prefix = ''): StringMatcher {
  if (v === '*') return regexMatcher('.+');
  if (v.startsWith('*'))
    return prefix === ''
      ? { suffix: v.slice(1) }
      : regexMatcher(`${quoteRegex(prefix)}.*${quoteRegex(v.slice(1))}`);
  if (v.endsWith('*')) return { prefix: prefix + v.slice(0, -1) };
  return { exact: prefix + v };
}

/** Istio's HeaderMatcher / HostMatcher: `*` → present, `*x` suffix, `x*` prefix, else exact. */
export function headerMatcher(name: string, v: string, ignoreCase = false): HeaderMatcher {
  if (v === '*') return { name, presentMatch: true };
  const ic = ignoreCase ? { ignoreCase: true } : {};
  if (v.startsWith('*')) return { name, stringMatch: { suffix: v.slice(1), ...ic } };
  if (v.endsWith('*')) return { name, stringMatch: { prefix: v.slice(0, -1), ...ic } };
  return { name, stringMatch: { exact: v, ...ic } };
}

/** A ValueMatcher OR-ing string matchers of `values` (one matcher stays bare). */
export function stringOrMatcher(values: readonly string[]): ValueMatcher {
  const ms: ValueMatcher[] = values.map((v) => ({ stringMatch: stringMatcher(v) }));
  return ms.length === 1 ? ms[0] : { orMatch: { valueMatchers: ms } };
}

/** JWT claims live in jwt_authn's dynamic metadata under `payload` (Istio's payload_in_metadata). */
export const JWT_FILTER = 'envoy.filters.http.jwt_authn';
export const JWT_PAYLOAD = 'payload';

/** A MetadataMatcher on a JWT claim path whose value is a string or a list holding a match (Istio's extended JWT matcher). */
export function jwtClaimMatcher(claims: readonly string[], value: ValueMatcher): MetadataMatcher {
  return {
    filter: JWT_FILTER,
    path: [JWT_PAYLOAD, ...claims].map((key) => ({ key })),
    value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: value } }, value] } },
  };
}

/** A MetadataMatcher on one top-level string claim (iss, sub). */
export function jwtStringClaimMatcher(claim: string, m: StringMatcher): MetadataMatcher {
  return { filter: JWT_FILTER, path: [{ key: JWT_PAYLOAD }, { key: claim }], value: { stringMatch: m } };
}
