// envoy.filters.http.rbac: enforces RBAC rules on each request (403 "RBAC: access denied") and
// evaluates shadow rules for stats and metadata only (Istio's AUDIT and dry-run policies).
import type { ActiveRequest } from '../../active-request.js';
import type { Counter } from '../../../stats/stats-store.js';
import { RbacAction, RbacEngine } from '../../../rbac/rbac-engine.js';
import { DISABLED } from '../../route/route-entry.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { HttpRbacInput } from './http-rbac-input.js';
import type {
  envoy_config_rbac_v3_RBAC as RbacRules,
  envoy_extensions_filters_http_rbac_v3_RBAC as RbacMessage,
  envoy_extensions_filters_http_rbac_v3_RBACPerRoute as RbacPerRoute,
} from '../../../../xds/envoy-types.js';

/** Dynamic metadata namespace Envoy's RBAC filter writes (shadow results, access-log hint). */
export const RBAC_METADATA = 'envoy.filters.http.rbac';

/** A compiled envoy.extensions.filters.http.rbac.v3.RBAC. */
export class RbacConfig {
  /** Enforced rules; null = nothing enforced. */
  readonly rules: RbacEngine | null;
  readonly rulesStatPrefix: string;
  /** Shadow rules (evaluated, never enforced); null when absent. */
  readonly shadow: RbacEngine | null;
  readonly shadowStatPrefix: string;

  constructor(c: RbacMessage | undefined) {
    if (c?.matcher || c?.shadowMatcher)
      throw new Error('the xDS matcher API of RBAC is not supported; use rules');
    this.rules = c?.rules ? compile(c.rules, 'rules') : null;
    this.shadow = c?.shadowRules ? compile(c.shadowRules, 'shadowRules') : null;
    this.rulesStatPrefix = String(c?.rulesStatPrefix ?? '');
    this.shadowStatPrefix = String(c?.shadowRulesStatPrefix ?? '');
  }
}

function compile(rbac: RbacRules, field: string): RbacEngine {
  try {
    return new RbacEngine(rbac);
  } catch (e) {
    throw new Error(`${field}.${(e as Error).message}`);
  }
}

/** Counters of one RBAC filter under `http.<prefix>.rbac.`. */
class RbacStats {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly shadowAllowed: Counter;
  readonly shadowDenied: Counter;
  constructor(ctx: FilterContext, c: RbacConfig) {
    this.allowed = ctx.scope.counter(`rbac.${c.rulesStatPrefix}allowed`);
    this.denied = ctx.scope.counter(`rbac.${c.rulesStatPrefix}denied`);
    this.shadowAllowed = ctx.scope.counter(`rbac.${c.shadowStatPrefix}shadow_allowed`);
    this.shadowDenied = ctx.scope.counter(`rbac.${c.shadowStatPrefix}shadow_denied`);
  }
}

/** Sets one key of a dynamic metadata namespace on the request. */
export function setMetadata(req: ActiveRequest, ns: string, key: string, value: unknown): void {
  const md = (req.dynamicMetadata ??= {});
  (md[ns] ??= {})[key] = value;
}

/** The RBAC filter of one HCM. */
export class RbacFilter implements HttpFilter {
  readonly encodeHeaders = null;
  readonly onDestroy = null;
  private readonly stats: RbacStats;

  constructor(
    readonly name: string,
    private readonly config: RbacConfig,
    ctx: FilterContext,
  ) {
    this.stats = new RbacStats(ctx, config);
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const per = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name);
    if (per === DISABLED) return FilterStatus.Continue;
    const c = (per as RbacConfig | undefined) ?? this.config;
    if (c.rules === null && c.shadow === null) return FilterStatus.Continue;
    const input = new HttpRbacInput(req);
    if (c.shadow !== null) {
      const d = c.shadow.evaluate(input);
      (d.allowed ? this.stats.shadowAllowed : this.stats.shadowDenied).inc();
      setMetadata(req, RBAC_METADATA, `${c.shadowStatPrefix}shadow_effective_policy_id`, d.policy);
      setMetadata(
        req,
        RBAC_METADATA,
        `${c.shadowStatPrefix}shadow_engine_result`,
        d.allowed ? 'allowed' : 'denied',
      );
    }
    if (c.rules === null) return FilterStatus.Continue;
    const d = c.rules.evaluate(input);
    if (c.rules.action === RbacAction.Log) {
      if (d.policy !== '') setMetadata(req, RBAC_METADATA, 'access_log_hint', true);
      return FilterStatus.Continue;
    }
    if (d.allowed) {
      this.stats.allowed.inc();
      return FilterStatus.Continue;
    }
    this.stats.denied.inc();
    req.sendReply({
      status: 403,
      flag: 0,
      body: 'RBAC: access denied',
      details: `rbac_access_denied_matched_policy[${d.policy || 'none'}]`,
      overloaded: false,
    });
    return FilterStatus.Stop;
  }
}

/** Factory for `envoy.filters.http.rbac` (per-route RBACPerRoute: `rbac` overrides, absent disables). */
export const rbacFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.rbac'],
  configTypes: ['envoy.extensions.filters.http.rbac.v3.RBAC'],
  create: (name, cfg, ctx) => new RbacFilter(name, new RbacConfig(cfg as RbacMessage), ctx),
  compilePerRoute: (cfg) => {
    const rbac = (cfg as RbacPerRoute | undefined)?.rbac;
    return rbac ? new RbacConfig(rbac) : DISABLED;
  },
};
