// VirtualService corsPolicy → the per-route config of envoy.filters.http.cors (CorsPolicy).
import type { CorsPolicy } from '../api/kinds/networking/virtual-service.js';
import { translateStringMatch } from './route-match.js';
import type {
  AnyMessageOf,
  envoy_extensions_filters_http_cors_v3_CorsPolicy as CorsPolicyMessage,
  envoy_type_matcher_v3_StringMatcher as StringMatcher,
} from '../xds/envoy-types.js';
import { anyOf, TYPES, wrap, durationMs } from './envoy.js';

/** The CorsPolicy for a route (its typed_per_filter_config Any); null when none is configured. */
export function translateCors(c: CorsPolicy | undefined): AnyMessageOf | null {
  if (!c) return null;
  const out: CorsPolicyMessage = {};
  const origins: StringMatcher[] = [];
  for (const o of c.allowOrigins ?? []) {
    const m = translateStringMatch(o);
    if (m) origins.push(m);
  }
  for (const o of c.allowOrigin ?? [])
    origins.push(o === '*' ? { safeRegex: { regex: '.*' } } : { exact: o });
  if (origins.length > 0) out.allowOriginStringMatch = origins;
  if (c.allowMethods?.length) out.allowMethods = c.allowMethods.join(',');
  if (c.allowHeaders?.length) out.allowHeaders = c.allowHeaders.join(',');
  if (c.exposeHeaders?.length) out.exposeHeaders = c.exposeHeaders.join(',');
  const maxAge = durationMs(c.maxAge);
  if (maxAge !== undefined) out.maxAge = String(Math.floor(maxAge / 1000));
  if (c.allowCredentials !== undefined) out.allowCredentials = wrap(c.allowCredentials);
  if (c.unmatchedPreflights === 'FORWARD') out.forwardNotMatchingPreflights = wrap(true);
  else if (c.unmatchedPreflights === 'IGNORE') out.forwardNotMatchingPreflights = wrap(false);
  return anyOf(TYPES.CORS_POLICY, out);
}
