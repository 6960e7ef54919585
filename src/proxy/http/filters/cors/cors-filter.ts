// envoy.filters.http.cors: answers preflights itself and adds Access-Control-* headers to responses.
import type { ActiveRequest } from '../../active-request.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { DISABLED } from '../../route/route-entry.js';
import type { Counter } from '../../../stats/stats-store.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { CorsPolicy } from './cors-policy.js';
import type { envoy_extensions_filters_http_cors_v3_CorsPolicy as CorsPolicyMessage } from '../../../../xds/envoy-types.js';

const legacy = new WeakMap<object, CorsPolicy>();

/** One request's CORS match (its filter slot): the allowed origin and the policy that allowed it. */
class CorsMatch {
  constructor(
    readonly origin: string,
    readonly policy: CorsPolicy,
  ) {}
}

/** The CORS filter of one HCM. */
export class CorsFilter implements HttpFilter {
  private readonly slot: number;
  private readonly valid: Counter;
  private readonly invalid: Counter;
  readonly onDestroy = null;

  constructor(
    readonly name: string,
    ctx: FilterContext,
  ) {
    this.valid = ctx.scope.counter('cors.origin_valid');
    this.invalid = ctx.scope.counter('cors.origin_invalid');
    this.slot = ctx.slot;
  }

  private policyFor(req: ActiveRequest): CorsPolicy | null {
    const p = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name);
    if (p === DISABLED) return null;
    if (p) return p as CorsPolicy;
    const l = req.vhost?.legacyCors;
    if (!l) return null;
    let c = legacy.get(l);
    if (!c) legacy.set(l, (c = new CorsPolicy(l)));
    return c;
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const origin = req.headers['origin'];
    if (typeof origin !== 'string' || origin === '') return FilterStatus.Continue;
    const p = this.policyFor(req);
    if (p === null || (p.enabledPerMillion < 1_000_000 && Math.random() * 1_000_000 >= p.enabledPerMillion)) {
      return FilterStatus.Continue;
    }
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!p.allows(origin)) {
      this.invalid.inc();
      if (preflight && !p.forwardNotMatchingPreflights) {
        req.sendResponse(200, {}, null);
        return FilterStatus.Stop;
      }
      return FilterStatus.Continue;
    }
    this.valid.inc();
    if (!preflight) {
      req.filterState[this.slot] = new CorsMatch(origin, p);
      return FilterStatus.Continue;
    }
    const h: HeaderMap = { 'access-control-allow-origin': origin };
    if (p.allowCredentials) h['access-control-allow-credentials'] = 'true';
    if (p.allowMethods) h['access-control-allow-methods'] = p.allowMethods;
    if (p.allowHeaders) h['access-control-allow-headers'] = p.allowHeaders;
    if (p.maxAge) h['access-control-max-age'] = p.maxAge;
    if (p.allowPrivateNetworkAccess && req.headers['access-control-request-private-network'] === 'true') {
      h['access-control-allow-private-network'] = 'true';
    }
    // Our own reply: the slot stays empty so the encode hook adds nothing.
    req.sendResponse(200, h, null);
    return FilterStatus.Stop;
  }

  readonly encodeHeaders = (req: ActiveRequest, _status: number, headers: HeaderMap): void => {
    const m = req.filterState[this.slot] as CorsMatch | null;
    if (m === null) return;
    const origin = m.origin;
    const p = m.policy;
    headers['access-control-allow-origin'] = origin;
    if (p.allowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (p.exposeHeaders) headers['access-control-expose-headers'] = p.exposeHeaders;
  };
}

/** Factory for `envoy.filters.http.cors`. */
export const corsFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.cors', 'envoy.cors'],
  configTypes: ['envoy.extensions.filters.http.cors.v3.Cors'],
  create: (name, _cfg, ctx) => new CorsFilter(name, ctx),
  compilePerRoute: (cfg) => new CorsPolicy(cfg as CorsPolicyMessage),
};
