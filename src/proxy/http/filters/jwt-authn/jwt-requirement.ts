// JwtRequirement trees (provider, provider_and_audiences, requires_any, requires_all, allow_missing,
// allow_missing_or_failed) and the RequirementRule route matches that pick one per request.
import type { ActiveRequest } from '../../active-request.js';
import { HeaderMatcher, matchAllHeaders } from '../../../matchers/header-matcher.js';
import { compileRegex } from '../../../matchers/string-matcher.js';
import type { JwtProvider } from './jwt-provider.js';
import { JwtStatus } from './jwt-verify.js';
import { boolValue } from '../../../util/values.js';
import type {
  envoy_config_route_v3_RouteMatch as RouteMatch,
  envoy_extensions_filters_http_jwt_authn_v3_JwtRequirement as JwtRequirement,
} from '../../../../xds/envoy-types.js';

/** A compiled requirement. */
export type Requirement =
  | {
      readonly kind: 'provider';
      readonly provider: JwtProvider;
      readonly audiences: readonly string[] | null;
    }
  | { readonly kind: 'any'; readonly list: readonly Requirement[] }
  | { readonly kind: 'all'; readonly list: readonly Requirement[] }
  | { readonly kind: 'allowMissing' }
  | { readonly kind: 'allowMissingOrFailed' };

/** The outcome of a requirement: ok, missing (no token), or a failure message. */
export type Outcome =
  { readonly ok: true } | { readonly ok: false; readonly missing: boolean; readonly message: string };

export const OK: Outcome = { ok: true };
export const MISSING: Outcome = { ok: false, missing: true, message: JwtStatus.Missing };

/** Compiles a canonical JwtRequirement against the named providers. */
export function compileRequirement(
  r: JwtRequirement | undefined,
  providers: ReadonlyMap<string, JwtProvider>,
): Requirement {
  const provider = (name: string): JwtProvider => {
    const p = providers.get(name);
    if (!p) throw new Error(`requirement names unknown provider "${name}"`);
    return p;
  };
  if (r?.providerName !== undefined)
    return { kind: 'provider', provider: provider(String(r.providerName)), audiences: null };
  if (r?.providerAndAudiences)
    return {
      kind: 'provider',
      provider: provider(String(r.providerAndAudiences.providerName ?? '')),
      audiences: (r.providerAndAudiences.audiences ?? []).map(String),
    };
  if (r?.requiresAny)
    return {
      kind: 'any',
      list: (r.requiresAny.requirements ?? []).map((x) => compileRequirement(x, providers)),
    };
  if (r?.requiresAll)
    return {
      kind: 'all',
      list: (r.requiresAll.requirements ?? []).map((x) => compileRequirement(x, providers)),
    };
  if (r?.allowMissing !== undefined) return { kind: 'allowMissing' };
  if (r?.allowMissingOrFailed !== undefined) return { kind: 'allowMissingOrFailed' };
  throw new Error(`unsupported requirement ${JSON.stringify(r)}`);
}

/** The providers a requirement names (their tokens are extracted up front). */
export function providersOf(r: Requirement, out = new Set<JwtProvider>()): Set<JwtProvider> {
  if (r.kind === 'provider') out.add(r.provider);
  else if (r.kind === 'any' || r.kind === 'all') for (const x of r.list) providersOf(x, out);
  return out;
}

/** A RequirementRule: a route match and the requirement it selects (null = no requirement). */
export class RequirementRule {
  private readonly prefix: string | null = null;
  private readonly path: string | null = null;
  private readonly re: ReturnType<typeof compileRegex> | null = null;
  private readonly headers: readonly HeaderMatcher[];

  constructor(
    match: RouteMatch | undefined,
    readonly requirement: Requirement | null,
  ) {
    if (match?.path !== undefined) this.path = String(match.path);
    else if (match?.safeRegex !== undefined) this.re = compileRegex(String(match.safeRegex.regex ?? ''));
    else if (match?.prefix !== undefined) this.prefix = String(match.prefix);
    else throw new Error('rules[].match: only prefix, path and safe_regex are supported');
    if (match.queryParameters || match.grpc || match.dynamicMetadata || !boolValue(match.caseSensitive, true))
      throw new Error('rules[].match: only prefix, path, safe_regex and headers are supported');
    this.headers = (match.headers ?? []).map((h) => new HeaderMatcher(h));
  }

  matches(req: ActiveRequest): boolean {
    const p = req.pathOnly;
    const pathOk =
      this.prefix !== null
        ? p.startsWith(this.prefix)
        : this.path !== null
          ? p === this.path
          : this.re!.testExact(p);
    return pathOk && matchAllHeaders(this.headers, req);
  }
}
