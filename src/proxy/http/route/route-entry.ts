// One compiled Envoy Route: its match (path, headers, query, runtime fraction) and its action
// (route to cluster(s) / redirect / direct response) with rewrites, header mutations, retry, mirror.
import { HashPolicy } from './hash-policy.js';
import { HeaderMatcher, type HeaderSource } from '../../matchers/header-matcher.js';
import { StringMatcher, compileRegex } from '../../matchers/string-matcher.js';
import { boolValue, durationMs, fractionPerMillion, u32 } from '../../util/values.js';
import type { RE2JS } from 're2js';
import { HeaderMutation } from './header-mutation.js';
import { RegexRewrite } from './path-rewrite.js';
import { Redirect, type RedirectInput } from './redirect.js';
import { RetryPolicy } from './retry-policy.js';
import type {
  AnyMessageOf,
  envoy_config_route_v3_FilterConfig as FilterConfig,
  envoy_config_route_v3_RetryPolicy as RetryPolicyConfig,
  envoy_config_route_v3_Route as RouteConfig,
  envoy_config_route_v3_WeightedCluster_ClusterWeight as ClusterWeight,
} from '../../../xds/envoy-types.js';

/** What route matching reads from a request. */
export interface RouteRequest extends HeaderSource, RedirectInput {
  readonly method: string;
  /** :path without query string and fragment. */
  readonly pathOnly: string;
  /** First value of a query parameter (decoded), or undefined when absent. */
  queryParam(name: string): string | undefined;
  /** content-type starts with application/grpc. */
  readonly isGrpc: boolean;
}

/** Compiles a typed_per_filter_config entry for filter `name`; returns null for unknown filters. */
export type PerFilterCompiler = (name: string, config: unknown) => unknown;

/** Compiled typed_per_filter_config: filter name → compiled config. */
export type PerFilterConfigs = ReadonlyMap<string, unknown> | null;

/** Compiles a typed_per_filter_config map (unwrapping envoy.config.route.v3.FilterConfig). */
export function compilePerFilter(
  m: Record<string, AnyMessageOf> | undefined,
  compile: PerFilterCompiler,
): PerFilterConfigs {
  if (!m || Object.keys(m).length === 0) return null;
  const out = new Map<string, unknown>();
  for (const [name, cfg] of Object.entries(m)) {
    let inner: unknown = cfg;
    if (String(cfg?.['@type'] ?? '').endsWith('envoy.config.route.v3.FilterConfig')) {
      const fc = cfg as AnyMessageOf & FilterConfig;
      if (fc.disabled) {
        out.set(name, DISABLED);
        continue;
      }
      inner = fc.config;
    }
    const c = compile(name, inner);
    if (c !== null && c !== undefined) out.set(name, c);
  }
  return out.size > 0 ? out : null;
}

/** Runs `fn`, prefixing any error with the field path it concerns. */
function at<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`);
  }
}

/** Per-filter config marker meaning "filter disabled on this route". */
export const DISABLED = Symbol('filter-disabled');

/** RouteEntry.mismatch: the request matches. */
export const MATCHED = 0;
/** RouteEntry.mismatch: the path (prefix, exact, regex or path-separated prefix) does not match. */
export const MISMATCH_PATH = 1;
/** RouteEntry.mismatch: the route matches gRPC requests only. */
export const MISMATCH_GRPC = 2;
/** RouteEntry.mismatch: the runtime fraction did not select this request. */
export const MISMATCH_RUNTIME = 3;
/** RouteEntry.mismatch: MISMATCH_HEADER + i, header matcher i failed. */
export const MISMATCH_HEADER = 0x100;
/** RouteEntry.mismatch: MISMATCH_QUERY + i, query parameter matcher i failed. */
export const MISMATCH_QUERY = 0x10000;

const PATH_PREFIX = 0;
const PATH_EXACT = 1;
const PATH_REGEX = 2;
const PATH_SEPARATED = 3;

interface QueryMatcher {
  name: string;
  present: boolean | null;
  matcher: StringMatcher | null;
}

/** One cluster of weighted_clusters. */
export class WeightedCluster {
  readonly name: string;
  readonly weight: number;
  readonly requestHeaders: HeaderMutation | null;
  readonly responseHeaders: HeaderMutation | null;
  readonly hostRewriteLiteral: string | null;
  readonly perFilter: PerFilterConfigs;
  constructor(c: ClusterWeight, compile: PerFilterCompiler) {
    this.name = String(c.name ?? '');
    this.weight = u32(c.weight, 0);
    this.requestHeaders = HeaderMutation.of(c.requestHeadersToAdd, c.requestHeadersToRemove);
    this.responseHeaders = HeaderMutation.of(c.responseHeadersToAdd, c.responseHeadersToRemove);
    this.hostRewriteLiteral = c.hostRewriteLiteral ? String(c.hostRewriteLiteral) : null;
    this.perFilter = compilePerFilter(c.typedPerFilterConfig, compile);
  }
}

/** Mirror (shadow) destination. */
export interface MirrorPolicy {
  readonly cluster: string;
  /** Fraction of requests mirrored, parts per million. */
  readonly perMillion: number;
  /** Append `-shadow` to the Host (Envoy default true). */
  readonly appendShadowSuffix: boolean;
}

/** The kinds of route action. */
export const enum ActionKind {
  Route = 0,
  Redirect = 1,
  DirectResponse = 2,
  NonForwarding = 3,
}

/** A compiled envoy.config.route.v3.Route. Immutable. */
export class RouteEntry {
  readonly name: string;
  // match
  private readonly pathKind: number;
  private readonly pathValue: string;
  private readonly pathRe: RE2JS | null;
  private readonly caseSensitive: boolean;
  private readonly headers: readonly HeaderMatcher[];
  private readonly queries: readonly QueryMatcher[];
  private readonly grpcOnly: boolean;
  private readonly runtimePerMillion: number;
  // action
  readonly kind: ActionKind;
  readonly cluster: string | null;
  readonly clusterHeader: string | null;
  readonly weighted: readonly WeightedCluster[] | null;
  /** Cumulative weights of `weighted` (precomputed for the pick). */
  private readonly cumulative: Float64Array | null;
  private readonly totalWeight: number;
  /** Route timeout in ms; 0 disables (Envoy default 15 s when unset). */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy | null;
  readonly mirrors: readonly MirrorPolicy[] | null;
  readonly prefixRewrite: string | null;
  readonly regexRewrite: RegexRewrite | null;
  readonly hostRewriteLiteral: string | null;
  readonly autoHostRewrite: boolean;
  readonly redirect: Redirect | null;
  readonly directStatus: number;
  readonly directBody: string | null;
  readonly requestHeaders: HeaderMutation | null;
  readonly responseHeaders: HeaderMutation | null;
  readonly perFilter: PerFilterConfigs;
  /** Hash policies for RING_HASH / MAGLEV clusters (and session cookies), or null. */
  readonly hashPolicy: HashPolicy | null;
  /** Route-level upgrade overrides: upgrade type → enabled. */
  readonly upgrades: ReadonlyMap<string, boolean> | null;
  /** The prefix this route matched on (for prefix_rewrite / redirect prefix_rewrite), else null. */
  readonly matchedPrefix: string | null;

  constructor(r: RouteConfig, compile: PerFilterCompiler, vhostRetry: RetryPolicyConfig | undefined) {
    this.name = String(r.name ?? '');
    const m = r.match ?? {};
    this.caseSensitive = boolValue(m.caseSensitive, true);
    this.pathRe = null;
    if (m.path !== undefined) [this.pathKind, this.pathValue] = [PATH_EXACT, String(m.path)];
    else if (m.safeRegex !== undefined) {
      this.pathKind = PATH_REGEX;
      this.pathValue = String(m.safeRegex?.regex ?? '');
      this.pathRe = at('match.safeRegex.regex', () => compileRegex(this.pathValue));
    } else if (m.pathSeparatedPrefix !== undefined)
      [this.pathKind, this.pathValue] = [PATH_SEPARATED, String(m.pathSeparatedPrefix)];
    else [this.pathKind, this.pathValue] = [PATH_PREFIX, String(m.prefix ?? '')];
    if (!this.caseSensitive) this.pathValue = this.pathValue.toLowerCase();
    this.matchedPrefix =
      this.pathKind === PATH_PREFIX || this.pathKind === PATH_SEPARATED
        ? this.pathValue
        : this.pathKind === PATH_EXACT
          ? this.pathValue
          : null;
    this.headers = (m.headers ?? []).map((h, i) => at(`match.headers[${i}]`, () => new HeaderMatcher(h)));
    this.queries = (m.queryParameters ?? []).map((q) => ({
      name: String(q.name ?? ''),
      present: q.presentMatch !== undefined ? q.presentMatch === true : q.stringMatch ? null : true,
      matcher: q.stringMatch
        ? at('match.queryParameters.stringMatch', () => new StringMatcher(q.stringMatch))
        : null,
    }));
    this.grpcOnly = m.grpc !== undefined;
    this.runtimePerMillion = m.runtimeFraction
      ? fractionPerMillion(m.runtimeFraction.defaultValue, 1_000_000)
      : 1_000_000;

    this.requestHeaders = HeaderMutation.of(r.requestHeadersToAdd, r.requestHeadersToRemove);
    this.responseHeaders = HeaderMutation.of(r.responseHeadersToAdd, r.responseHeadersToRemove);
    this.perFilter = at('typedPerFilterConfig', () => compilePerFilter(r.typedPerFilterConfig, compile));

    const a = r.route;
    this.cluster = null;
    this.clusterHeader = null;
    this.weighted = null;
    this.cumulative = null;
    this.totalWeight = 0;
    this.timeoutMs = 0;
    this.retry = null;
    this.mirrors = null;
    this.prefixRewrite = null;
    this.regexRewrite = null;
    this.hostRewriteLiteral = null;
    this.autoHostRewrite = false;
    this.redirect = null;
    this.directStatus = 0;
    this.directBody = null;
    this.hashPolicy = null;
    this.upgrades = null;
    if (a) {
      this.kind = ActionKind.Route;
      if (a.cluster !== undefined) this.cluster = String(a.cluster);
      else if (a.clusterHeader !== undefined) this.clusterHeader = String(a.clusterHeader).toLowerCase();
      else if (a.weightedClusters) {
        const ws = (a.weightedClusters.clusters ?? []).map((c) => new WeightedCluster(c, compile));
        if (ws.length === 0) throw new Error('route.weightedClusters.clusters: is empty');
        this.weighted = ws;
        this.cumulative = new Float64Array(ws.length);
        let sum = 0;
        ws.forEach((w, i) => (this.cumulative![i] = sum += w.weight));
        this.totalWeight = sum;
        if (sum === 0) throw new Error('route.weightedClusters.clusters: total weight is 0');
      } else throw new Error('route: needs cluster, cluster_header or weighted_clusters');
      this.timeoutMs = durationMs(a.timeout, 15_000);
      const rp = a.retryPolicy ?? vhostRetry;
      this.retry = rp ? at('route.retryPolicy', () => new RetryPolicy(rp)) : null;
      const mirrors = (a.requestMirrorPolicies ?? []).map((p) => ({
        cluster: String(p.cluster ?? ''),
        perMillion: p.runtimeFraction
          ? fractionPerMillion(p.runtimeFraction.defaultValue, 1_000_000)
          : 1_000_000,
        appendShadowSuffix: p.disableShadowHostSuffixAppend !== true,
      }));
      this.mirrors = mirrors.length > 0 ? mirrors : null;
      this.prefixRewrite = a.prefixRewrite !== undefined ? String(a.prefixRewrite) : null;
      this.regexRewrite = a.regexRewrite
        ? at('route.regexRewrite.pattern.regex', () => new RegexRewrite(a.regexRewrite!))
        : null;
      this.hostRewriteLiteral = a.hostRewriteLiteral ? String(a.hostRewriteLiteral) : null;
      this.autoHostRewrite = boolValue(a.autoHostRewrite, false);
      this.hashPolicy =
        a.hashPolicy && a.hashPolicy.length > 0
          ? at('route.hashPolicy', () => new HashPolicy(a.hashPolicy!))
          : null;
      const ups = (a.upgradeConfigs ?? []).map(
        (u) => [String(u.upgradeType ?? '').toLowerCase(), boolValue(u.enabled, true)] as const,
      );
      this.upgrades = ups.length > 0 ? new Map(ups) : null;
    } else if (r.redirect) {
      this.kind = ActionKind.Redirect;
      this.redirect = at('redirect', () => new Redirect(r.redirect!));
    } else if (r.directResponse) {
      this.kind = ActionKind.DirectResponse;
      this.directStatus = Number(r.directResponse.status ?? 200);
      const b = r.directResponse.body;
      this.directBody =
        b?.inlineString !== undefined
          ? String(b.inlineString)
          : b?.inlineBytes !== undefined
            ? (typeof b.inlineBytes === 'string'
                ? Buffer.from(b.inlineBytes, 'base64')
                : Buffer.from(b.inlineBytes)
              ).toString()
            : null;
    } else if (r.nonForwardingAction) {
      this.kind = ActionKind.NonForwarding;
    } else throw new Error('action: needs one of route, redirect, direct_response');
  }

  /** True when the request matches this route. */
  matches(req: RouteRequest): boolean {
    return this.mismatch(req) === MATCHED;
  }

  /**
   * Why the request does not match, as a code (MATCHED when it does): MISMATCH_PATH, MISMATCH_GRPC,
   * MISMATCH_RUNTIME, MISMATCH_HEADER + i or MISMATCH_QUERY + i (index into the route's match lists).
   * The one matcher both the data plane and `mizzen x explain` run.
   */
  mismatch(req: RouteRequest): number {
    const p = this.caseSensitive ? req.pathOnly : req.pathOnly.toLowerCase();
    switch (this.pathKind) {
      case PATH_PREFIX:
        if (!p.startsWith(this.pathValue)) return MISMATCH_PATH;
        break;
      case PATH_EXACT:
        if (p !== this.pathValue) return MISMATCH_PATH;
        break;
      case PATH_REGEX:
        if (!this.pathRe!.testExact(req.pathOnly)) return MISMATCH_PATH;
        break;
      case PATH_SEPARATED:
        if (!(
          p === this.pathValue ||
          (p.startsWith(this.pathValue) && p.charCodeAt(this.pathValue.length) === 47)
        ))
          return MISMATCH_PATH;
        break;
    }
    if (this.grpcOnly && !req.isGrpc) return MISMATCH_GRPC;
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) if (!hs[i].match(req)) return MISMATCH_HEADER + i;
    for (let i = 0; i < this.queries.length; i++) {
      const q = this.queries[i];
      const v = req.queryParam(q.name);
      if (q.present !== null) {
        if ((v !== undefined) !== q.present) return MISMATCH_QUERY + i;
      } else if (v === undefined || !q.matcher!.match(v)) return MISMATCH_QUERY + i;
    }
    if (this.runtimePerMillion < 1_000_000 && Math.random() * 1_000_000 >= this.runtimePerMillion)
      return MISMATCH_RUNTIME;
    return MATCHED;
  }

  /** Picks one of the weighted clusters (precomputed cumulative weights). */
  pickWeighted(): WeightedCluster {
    const ws = this.weighted!;
    const r = Math.random() * this.totalWeight;
    const cum = this.cumulative!;
    for (let i = 0; i < cum.length; i++) if (r < cum[i]) return ws[i];
    return ws[ws.length - 1];
  }

  /** The rewritten :path (query kept), or null when the route does not rewrite. */
  rewritePath(req: RouteRequest): string | null {
    if (this.prefixRewrite === null && this.regexRewrite === null) return null;
    const q = req.path.length - req.pathOnly.length;
    const query = q > 0 ? req.path.slice(req.pathOnly.length) : '';
    if (this.prefixRewrite !== null && this.matchedPrefix !== null) {
      return this.prefixRewrite + req.pathOnly.slice(this.matchedPrefix.length) + query;
    }
    if (this.regexRewrite) return this.regexRewrite.apply(req.pathOnly) + query;
    return null;
  }
}
