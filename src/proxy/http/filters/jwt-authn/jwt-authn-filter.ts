// envoy.filters.http.jwt_authn: picks the requirement for the request, verifies the tokens it names
// (asynchronously: keys may need a fetch), answers 401 with Envoy's message on failure, and on success
// writes the payload to dynamic metadata and the configured headers, then continues the chain.
import type { ActiveRequest } from '../../active-request.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { DISABLED } from '../../route/route-entry.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { setMetadata } from '../rbac/rbac-filter.js';
import { JwtProvider, type JwtStats } from './jwt-provider.js';
import {
  compileRequirement,
  MISSING,
  OK,
  providersOf,
  RequirementRule,
  type Outcome,
  type Requirement,
} from './jwt-requirement.js';
import { JwtStatus, verifyJwt, type Verified } from './jwt-verify.js';
import { extractTokens, type FoundToken } from './token-extractor.js';
import type {
  envoy_extensions_filters_http_jwt_authn_v3_JwtAuthentication as JwtAuthentication,
  envoy_extensions_filters_http_jwt_authn_v3_PerRouteConfig as JwtPerRouteConfig,
} from '../../../../xds/envoy-types.js';

/** Dynamic metadata namespace the verified payloads go to (read by RBAC). */
export const JWT_METADATA = 'envoy.filters.http.jwt_authn';

/** A compiled JwtAuthentication. Immutable. */
export class JwtConfig {
  readonly providers = new Map<string, JwtProvider>();
  readonly rules: readonly RequirementRule[];
  readonly requirementMap = new Map<string, Requirement>();
  readonly bypassCorsPreflight: boolean;

  constructor(c: JwtAuthentication | undefined, stats: JwtStats) {
    for (const [name, p] of Object.entries(c?.providers ?? {})) {
      try {
        this.providers.set(name, new JwtProvider(name, p, stats));
      } catch (e) {
        throw new Error(`providers[${name}]: ${(e as Error).message}`);
      }
    }
    for (const [name, r] of Object.entries(c?.requirementMap ?? {}))
      this.requirementMap.set(name, compileRequirement(r, this.providers));
    this.rules = (c?.rules ?? []).map((r, i) => {
      try {
        const req = r.requires
          ? compileRequirement(r.requires, this.providers)
          : r.requirementName
            ? this.named(String(r.requirementName))
            : null;
        return new RequirementRule(r.match, req);
      } catch (e) {
        throw new Error(`rules[${i}]: ${(e as Error).message}`);
      }
    });
    if (c?.filterStateRules) throw new Error('filter_state_rules is not supported');
    this.bypassCorsPreflight = c?.bypassCorsPreflight === true;
  }

  named(name: string): Requirement {
    const r = this.requirementMap.get(name);
    if (!r) throw new Error(`requirement_name "${name}" is not in requirement_map`);
    return r;
  }
}

/** One request's verification (its filter slot): tokens found and each provider's result, memoized. */
class JwtState {
  readonly results = new Map<JwtProvider, Promise<Verified | null>>();
  readonly verified: { provider: JwtProvider; token: FoundToken; v: Verified & { ok: true } }[] = [];
  constructor(readonly tokens: ReadonlyMap<JwtProvider, FoundToken[]>) {}
}

/** The jwt_authn filter of one HCM. */
export class JwtAuthnFilter implements HttpFilter {
  readonly encodeHeaders = null;
  private readonly slot: number;

  constructor(
    readonly name: string,
    private readonly config: JwtConfig,
    private readonly stats: JwtStats,
    ctx: FilterContext,
  ) {
    this.slot = ctx.slot;
  }

  private requirementFor(req: ActiveRequest): Requirement | null {
    const per = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name);
    if (per === DISABLED) return null;
    if (typeof per === 'string') return this.config.named(per);
    for (const r of this.config.rules) if (r.matches(req)) return r.requirement;
    return null;
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const c = this.config;
    if (
      c.bypassCorsPreflight &&
      req.method === 'OPTIONS' &&
      req.headers['origin'] !== undefined &&
      req.headers['access-control-request-method'] !== undefined
    ) {
      this.stats.corsPreflightBypassed.inc();
      return FilterStatus.Continue;
    }
    const requirement = this.requirementFor(req);
    if (requirement === null) return FilterStatus.Continue;
    const tokens = new Map<JwtProvider, FoundToken[]>();
    let any = false;
    for (const p of providersOf(requirement)) {
      const t = extractTokens(req, p);
      tokens.set(p, t);
      if (t.length > 0) any = true;
    }
    if (!any) {
      // No token anywhere: decided without verification (allow_missing passes, a provider requirement fails).
      const o = evaluateMissing(requirement);
      if (o.ok) {
        this.stats.allowed.inc();
        return FilterStatus.Continue;
      }
      this.deny(req, o.message);
      return FilterStatus.Stop;
    }
    const st = new JwtState(tokens);
    req.filterState[this.slot] = st;
    this.evaluate(st, requirement).then(
      (o) => this.finish(req, st, o),
      (e) => this.finish(req, st, { ok: false, missing: false, message: `Jwt verification fails: ${e}` }),
    );
    return FilterStatus.Stop;
  }

  private finish(req: ActiveRequest, st: JwtState, o: Outcome): void {
    // The stream may have ended (client reset, timeout) while keys were fetched.
    if (req.done || req.filterState[this.slot] !== st) return;
    req.filterState[this.slot] = null;
    if (!o.ok) {
      this.deny(req, o.message);
      return;
    }
    this.stats.allowed.inc();
    for (const { provider, token, v } of st.verified) applyOutputs(req, provider, token, v);
    req.continueDecoding();
  }

  private deny(req: ActiveRequest, message: string): void {
    this.stats.denied.inc();
    const details = `jwt_authn_access_denied{${message.replace(/ /g, '_')}}`;
    if (req.isGrpc) {
      req.sendReply({ status: 401, flag: 0, body: message, details, overloaded: false });
      return;
    }
    req.responseCodeDetails = details;
    const realm = `http://${req.authority}${req.pathOnly}`;
    const headers: HeaderMap = {
      'www-authenticate':
        message === JwtStatus.Missing
          ? `Bearer realm="${realm}"`
          : `Bearer realm="${realm}", error="invalid_token"`,
    };
    req.sendResponse(401, headers, message);
  }

  private verifyOnce(st: JwtState, p: JwtProvider): Promise<Verified | null> {
    let r = st.results.get(p);
    if (r === undefined) {
      const token = st.tokens.get(p)?.[0];
      r =
        token === undefined
          ? Promise.resolve(null)
          : verifyJwt(token.token, p).then((v) => {
              if (v.ok) st.verified.push({ provider: p, token, v });
              return v;
            });
      st.results.set(p, r);
    }
    return r;
  }

  private async evaluate(st: JwtState, r: Requirement): Promise<Outcome> {
    switch (r.kind) {
      case 'provider': {
        const v = await this.verifyOnce(st, r.provider);
        if (v === null) return MISSING;
        if (!v.ok) return { ok: false, missing: false, message: v.message };
        if (r.audiences !== null && r.audiences.length > 0) {
          const aud = v.payload.aud;
          const have = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
          if (!r.audiences.some((a) => have.includes(a)))
            return { ok: false, missing: false, message: 'Audiences in Jwt are not allowed' };
        }
        return OK;
      }
      case 'allowMissing':
        return MISSING; // a token is present: only a provider can make this requirement pass
      case 'allowMissingOrFailed':
        return OK;
      case 'any': {
        const outs = await Promise.all(r.list.map((x) => this.evaluate(st, x)));
        if (outs.some((o) => o.ok)) return OK;
        return outs.find((o) => !o.ok && !o.missing) ?? MISSING;
      }
      case 'all': {
        const outs = await Promise.all(r.list.map((x) => this.evaluate(st, x)));
        return outs.find((o) => !o.ok) ?? OK;
      }
    }
  }

  readonly onDestroy = (req: ActiveRequest): void => {
    req.filterState[this.slot] = null;
  };
}

/** A requirement's outcome when the request carries no token at all. */
function evaluateMissing(r: Requirement): Outcome {
  switch (r.kind) {
    case 'provider':
      return MISSING;
    case 'allowMissing':
    case 'allowMissingOrFailed':
      return OK;
    case 'any':
      return r.list.some((x) => evaluateMissing(x).ok) ? OK : MISSING;
    case 'all':
      return r.list.every((x) => evaluateMissing(x).ok) ? OK : MISSING;
  }
}

/** The value at a dotted claim path, or undefined. */
function claimAt(payload: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = payload;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** What a verified token produces: metadata payload, forwarded payload, claim headers, token removal. */
function applyOutputs(req: ActiveRequest, p: JwtProvider, t: FoundToken, v: Verified & { ok: true }): void {
  if (p.payloadInMetadata !== '') {
    const payload: Record<string, unknown> = { ...v.payload };
    for (const k of p.spaceDelimited)
      if (typeof payload[k] === 'string') payload[k] = payload[k].split(' ').filter((s) => s !== '');
    setMetadata(req, JWT_METADATA, p.payloadInMetadata, payload);
  }
  if (p.forwardPayloadHeader !== '') req.headers[p.forwardPayloadHeader] = v.rawPayload;
  for (const ch of p.claimHeaders) {
    const val = claimAt(v.payload, ch.claim);
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean')
      req.headers[ch.header] = String(val);
  }
  if (!p.forward && t.header !== '') delete req.headers[t.header];
}

function jwtStats(ctx: FilterContext): JwtStats {
  const s = ctx.scope;
  return {
    allowed: s.counter('jwt_authn.allowed'),
    denied: s.counter('jwt_authn.denied'),
    corsPreflightBypassed: s.counter('jwt_authn.cors_preflight_bypassed'),
    fetchSuccess: s.counter('jwt_authn.jwks_fetch_success'),
    fetchFailed: s.counter('jwt_authn.jwks_fetch_failed'),
  };
}

/** Factory for `envoy.filters.http.jwt_authn` (per route: `disabled` or `requirement_name`). */
export const jwtAuthnFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.jwt_authn'],
  configTypes: ['envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication'],
  create: (name, cfg, ctx) => {
    const stats = jwtStats(ctx);
    return new JwtAuthnFilter(name, new JwtConfig(cfg as JwtAuthentication, stats), stats, ctx);
  },
  compilePerRoute: (perRoute) => {
    const cfg = perRoute as JwtPerRouteConfig | undefined;
    if (cfg?.disabled === true) return DISABLED;
    if (!cfg?.requirementName)
      throw new Error('jwt_authn per-route config needs disabled or requirement_name');
    return cfg.requirementName;
  },
};
