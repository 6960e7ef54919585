// One compiled VirtualHost: domains, ordered routes, and vhost-level headers/retry/CORS/filter configs.
import { boolValue } from '../../util/values.js';
import { HeaderMutation } from './header-mutation.js';
import {
  compilePerFilter,
  RouteEntry,
  type PerFilterCompiler,
  type PerFilterConfigs,
  type RouteRequest,
} from './route-entry.js';
import type {
  envoy_config_route_v3_CorsPolicy as CorsPolicy,
  envoy_config_route_v3_VirtualHost as VirtualHostConfig,
} from '../../../xds/envoy-types.js';

/** A compiled envoy.config.route.v3.VirtualHost. */
export class VirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteEntry[];
  readonly requestHeaders: HeaderMutation | null;
  readonly responseHeaders: HeaderMutation | null;
  readonly perFilter: PerFilterConfigs;
  /** Send x-envoy-attempt-count upstream (Istio sets it on every vhost). */
  readonly includeAttemptCount: boolean;
  /** Send x-envoy-attempt-count back downstream. */
  readonly includeAttemptCountInResponse: boolean;
  /** Legacy `cors` field (CorsPolicy) — compiled by the CORS filter via perFilter fallback. */
  readonly legacyCors: CorsPolicy | null;
  /** require_tls: 0 none, 1 external requests only, 2 all (answered with a 301 to https). */
  readonly requireTls: number;
  /** The redirect route require_tls answers with, or null. */
  private readonly sslRedirect: RouteEntry | null;

  constructor(v: VirtualHostConfig, compile: PerFilterCompiler, where: string) {
    this.name = String(v.name ?? '');
    this.domains = (v.domains ?? []).map((d) => d.toLowerCase());
    if (this.domains.length === 0)
      throw new Error(`${where}.domains: a virtual host needs at least one domain`);
    this.requestHeaders = HeaderMutation.of(v.requestHeadersToAdd, v.requestHeadersToRemove);
    this.responseHeaders = HeaderMutation.of(v.responseHeadersToAdd, v.responseHeadersToRemove);
    this.perFilter = compilePerFilter(v.typedPerFilterConfig, compile);
    this.includeAttemptCount = boolValue(v.includeRequestAttemptCount, false);
    this.includeAttemptCountInResponse = boolValue(v.includeAttemptCountInResponse, false);
    this.legacyCors = v.cors ?? null;
    this.requireTls = v.requireTls === 'ALL' ? 2 : v.requireTls === 'EXTERNAL_ONLY' ? 1 : 0;
    this.sslRedirect =
      this.requireTls > 0
        ? new RouteEntry(
            { name: 'ssl_redirect', match: { prefix: '/' }, redirect: { httpsRedirect: true } },
            compile,
            undefined,
          )
        : null;
    this.routes = (v.routes ?? []).map((r, i) => {
      try {
        return new RouteEntry(r, compile, v.retryPolicy);
      } catch (e) {
        throw new Error(`${where}.routes[${i}]${r?.name ? `(${r.name})` : ''}.${(e as Error).message}`);
      }
    });
  }

  /** The first matching route, or null. Plaintext requests to a require_tls host get the https redirect. */
  route(req: RouteRequest): RouteEntry | null {
    if (this.sslRedirect !== null && req.headers['x-forwarded-proto'] !== 'https') {
      if (this.requireTls === 2 || req.headers['x-envoy-internal'] !== 'true') return this.sslRedirect;
    }
    const rs = this.routes;
    for (let i = 0; i < rs.length; i++) if (rs[i].matches(req)) return rs[i];
    return null;
  }
}
