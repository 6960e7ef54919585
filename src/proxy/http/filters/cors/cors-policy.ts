// Compiled CorsPolicy (envoy.extensions.filters.http.cors.v3.CorsPolicy or the legacy route CorsPolicy).
import { StringMatcher } from '../../../matchers/string-matcher.js';
import { boolValue, fractionPerMillion } from '../../../util/values.js';
import type { envoy_extensions_filters_http_cors_v3_CorsPolicy as CorsPolicyMessage } from '../../../../xds/envoy-types.js';

/** A CORS policy for a route or virtual host. */
export class CorsPolicy {
  private readonly origins: readonly StringMatcher[];
  readonly allowMethods: string | null;
  readonly allowHeaders: string | null;
  readonly exposeHeaders: string | null;
  readonly maxAge: string | null;
  readonly allowCredentials: boolean;
  readonly allowPrivateNetworkAccess: boolean;
  /** Forward preflights whose origin does not match (Envoy default true). */
  readonly forwardNotMatchingPreflights: boolean;
  /** Enforcement fraction, parts per million (filter_enabled; default 100%). */
  readonly enabledPerMillion: number;

  /** The filter's CorsPolicy or the route/virtual host's legacy `cors` (the same fields). */
  constructor(c: CorsPolicyMessage) {
    this.origins = (c.allowOriginStringMatch ?? []).map((m) => new StringMatcher(m));
    this.allowMethods = c.allowMethods ? String(c.allowMethods) : null;
    this.allowHeaders = c.allowHeaders ? String(c.allowHeaders) : null;
    this.exposeHeaders = c.exposeHeaders ? String(c.exposeHeaders) : null;
    this.maxAge = c.maxAge ? String(c.maxAge) : null;
    this.allowCredentials = boolValue(c.allowCredentials, false);
    this.allowPrivateNetworkAccess = boolValue(c.allowPrivateNetworkAccess, false);
    this.forwardNotMatchingPreflights = boolValue(c.forwardNotMatchingPreflights, true);
    this.enabledPerMillion = c.filterEnabled
      ? fractionPerMillion(c.filterEnabled.defaultValue, 1_000_000)
      : 1_000_000;
  }

  /** True when the Origin is allowed (`*` matchers match everything). */
  allows(origin: string): boolean {
    for (const m of this.origins) if (m.match(origin)) return true;
    return false;
  }
}
