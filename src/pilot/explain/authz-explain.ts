// The authorization decision of an explained request: for each destination workload of the matched
// route, the RBAC filters of the inbound chain pilot generates for its sidecar (CUSTOM gate, AUDIT,
// DENY, ALLOW; dry-run as shadow rules) evaluated with the proxy's own engine for the request as that
// sidecar sees it — the source's SPIFFE principal when the connection is mutual TLS, the destination
// port, method, headers and the path after the listener's normalization. JWT conditions are left open.
import type { HeaderSource } from '../../proxy/matchers/header-matcher.js';
import { compilePathNormalizer, PathVerdict } from '../../proxy/http/hcm/path-normalization.js';
import type { RbacInput } from '../../proxy/rbac/rbac-input.js';
import { sourceOf } from '../../api/resource.js';
import { JWT_AUTHN } from '../authn/jwt-filter.js';
import { policiesFor } from '../authz/policy-selection.js';
import { EXT_AUTHZ_SHADOW_PREFIX } from '../authz/ext-authz-filters.js';
import { FILTERS, type Envoy } from '../envoy.js';
import type { Generator, ProxyRef } from '../generator.js';
import type { PushContext } from '../push-context.js';
import { authzPolicySource, whereOfPolicy, type AuthzPolicySource } from './authz-source.js';
import {
  destinationEndpoints,
  inboundChain,
  proxyOf,
  decodedChain,
  type DestinationEndpoint,
  type InboundChain,
} from './inbound-chain.js';
import { evaluateRbac, type PolicyMatch, type RbacOutcome } from './rbac-eval.js';
import { arr, obj } from './shape.js';

const HTTP_RBAC = 'envoy.filters.http.rbac';
const NETWORK_RBAC = 'envoy.filters.network.rbac';

/** One policy of a step, located. */
export interface AuthzPolicyMatch {
  readonly match: PolicyMatch;
  readonly source: AuthzPolicySource;
}

/** One RBAC stage the request passes at the destination, in filter order. */
export interface AuthzStep {
  /** CUSTOM: which requests go to the ext_authz provider; AUDIT: logged only. */
  readonly action: 'CUSTOM' | 'AUDIT' | 'DENY' | 'ALLOW';
  /** Shadow rules (istio.io/dry-run): evaluated for stats and logs, never enforced. */
  readonly dryRun: boolean;
  readonly policies: readonly AuthzPolicyMatch[];
  /** The proxy cannot compile this RBAC (it rejects the listener). */
  readonly error?: string;
}

/** The decision at one destination workload. */
export interface AuthzExplain {
  /** Where the decision is taken: the source gateway itself, or the destination workload's sidecar. */
  readonly at: 'gateway' | 'destination';
  /** `ns/name` of the destination workload and the endpoint the decision is for. */
  readonly workload: string;
  readonly address: string;
  readonly cluster: string;
  /** The proxy whose inbound config was evaluated; `connected` false when it was generated for the workload. */
  readonly proxy: string;
  readonly connected: boolean;
  readonly listener?: string;
  readonly filterChain?: string;
  readonly transport: 'mutual TLS' | 'plaintext';
  /** The peer identity the destination sees (`spiffe://…`), '' over plaintext. */
  readonly principal: string;
  /** :path as the RBAC filter matches it (after the destination's path normalization). */
  readonly path: string;
  /** DEPENDS_ON_TOKEN: request.auth.* conditions decide; EXTERNAL: a CUSTOM provider decides. */
  readonly decision: 'ALLOW' | 'DENY' | 'DEPENDS_ON_TOKEN' | 'EXTERNAL';
  /** One line: the decision and the policy (with file:line:col) that made it. */
  readonly summary: string;
  /** The policy that decided, when one did. */
  readonly policy?: AuthzPolicySource;
  /** For DEPENDS_ON_TOKEN: the decision for a request that carries no token. */
  readonly withoutToken?: 'ALLOW' | 'DENY';
  /** RequestAuthentication on the destination: the JWT issuers it verifies and the resources. */
  readonly requestAuthentication?: {
    readonly issuers: readonly string[];
    readonly resources: readonly string[];
  };
  readonly steps: readonly AuthzStep[];
}

/** What the destination sees of the request (after the source route's rewrites). */
export interface AuthzRequest {
  readonly method: string;
  readonly authority: string;
  /** :path with query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** At most this many destination workloads are evaluated per explanation. */
const MAX_DESTINATIONS = 8;

/** The decision at each destination workload of `clusters` (deduplicated by workload). */
export function explainAuthz(
  gen: Generator,
  push: PushContext,
  source: ProxyRef,
  clusters: readonly string[],
  req: AuthzRequest,
  proxies: readonly ProxyRef[] | undefined,
): AuthzExplain[] {
  const seen = new Set<string>();
  const out: AuthzExplain[] = [];
  const principal = principalOf(gen, push, source);
  for (const name of clusters)
    for (const d of destinationEndpoints(gen, push, source, name)) {
      const key = `${d.workload.namespace}/${d.workload.name}`;
      if (seen.has(key) || out.length >= MAX_DESTINATIONS) continue;
      seen.add(key);
      out.push(atDestination(gen, push, source, d, principal, req, proxies));
    }
  return out;
}

/** Where a gateway's clients are taken to connect from: the local mesh's clients are on loopback. */
export const GATEWAY_CLIENT_IP = '127.0.0.1';

/**
 * The decision a gateway takes on the request itself (the policies selecting the gateway), on the
 * chain `chainIndex` of its listener `listener` that took it; null when that chain enforces nothing.
 */
export function explainGatewayAuthz(
  gen: Generator,
  push: PushContext,
  ref: ProxyRef,
  listener: Envoy,
  chainIndex: number,
  req: AuthzRequest,
): AuthzExplain | null {
  const chain = decodedChain(listener, chainIndex);
  const scope = gen.scope(ref);
  const sa = obj(obj(listener.address).socketAddress);
  const localIp = String(sa.address ?? '');
  const localPort = Number(sa.portValue ?? 0);
  const conn = { directRemoteIp: GATEWAY_CLIENT_IP, localIp, localPort, sni: '', peer: '' };
  const out = onChain(gen, push, ref, chain, conn, req);
  if (out.steps.length === 0 && !out.requestAuthentication) return null;
  const w = scope.workload;
  return {
    at: 'gateway',
    workload: w ? `${w.namespace}/${w.name}` : `${scope.proxy.namespace}/${scope.proxy.name}`,
    address: `${localIp}:${localPort}`,
    cluster: '',
    proxy: ref.id,
    connected: true,
    transport: 'plaintext',
    principal: '',
    ...out,
  };
}

/** spiffe://<trustDomain>/ns/<ns>/sa/<sa> of the source proxy's workload. */
function principalOf(gen: Generator, push: PushContext, ref: ProxyRef): string {
  const scope = gen.scope(ref);
  const sa =
    scope.workload?.serviceAccount ||
    (typeof ref.metadata?.SERVICE_ACCOUNT === 'string' ? ref.metadata.SERVICE_ACCOUNT : '') ||
    'default';
  return `spiffe://${push.mesh.trustDomain}/ns/${scope.proxy.namespace}/sa/${sa}`;
}

function atDestination(
  gen: Generator,
  push: PushContext,
  source: ProxyRef,
  d: DestinationEndpoint,
  principal: string,
  req: AuthzRequest,
  proxies: readonly ProxyRef[] | undefined,
): AuthzExplain {
  const { ref, connected } = proxyOf(d.workload, proxies, source);
  const peer = d.mtls ? principal : '';
  const base = {
    at: 'destination' as const,
    workload: `${d.workload.namespace}/${d.workload.name}`,
    address: `${d.address}:${d.port}`,
    cluster: d.cluster,
    proxy: ref.id,
    connected,
    transport: d.mtls ? ('mutual TLS' as const) : ('plaintext' as const),
    principal: peer,
    path: req.path,
    steps: [] as AuthzStep[],
  };
  const chain = inboundChain(gen, ref, d.address, d.port, d.mtls);
  if (!chain) {
    const why = d.mtls
      ? `its sidecar has no inbound chain for mutual TLS on port ${d.port}`
      : gen.scope(ref).proxy.noSidecar
        ? 'it has no sidecar: nothing enforces authorization'
        : `its sidecar refuses plaintext on port ${d.port} (PeerAuthentication STRICT)`;
    const allow = !d.mtls && gen.scope(ref).proxy.noSidecar;
    return {
      ...base,
      decision: allow ? 'ALLOW' : 'DENY',
      summary: `${allow ? 'allowed' : 'denied'}: ${why}`,
    };
  }
  const conn = {
    directRemoteIp: gen.scope(source).proxy.ip,
    localIp: d.address,
    localPort: d.port,
    sni: d.sni,
    peer,
  };
  return { ...base, ...onChain(gen, push, ref, chain, conn, req) };
}

/** The connection as the enforcing proxy sees it. */
interface Conn {
  readonly directRemoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  readonly sni: string;
  /** The peer's verified SPIFFE id, '' when none. */
  readonly peer: string;
}

type ChainOutcome = Pick<
  AuthzExplain,
  | 'listener'
  | 'filterChain'
  | 'path'
  | 'decision'
  | 'summary'
  | 'policy'
  | 'withoutToken'
  | 'requestAuthentication'
  | 'steps'
>;

/** The RBAC filters of one chain of `enforcer` evaluated for `req` over `conn`, and the decision. */
function onChain(
  gen: Generator,
  push: PushContext,
  enforcer: ProxyRef,
  chain: InboundChain,
  conn: Conn,
  req: AuthzRequest,
): ChainOutcome {
  const at = { listener: chain.listener, filterChain: chain.chain };
  const hcm = obj(chain.filters.find((f) => f.name === FILTERS.HCM)?.typedConfig);
  const http = chain.filters.some((f) => f.name === FILTERS.HCM);
  let path = '';
  if (http) {
    const normalizer = compilePathNormalizer(hcm);
    const n = normalizer ? normalizer.apply(req.path) : { verdict: PathVerdict.Continue, path: req.path };
    if (n.verdict === PathVerdict.Reject)
      return {
        ...at,
        path: req.path,
        steps: [],
        decision: 'DENY',
        summary: 'denied: the path cannot be normalized (400 before authorization)',
      };
    path = n.path;
  }
  const input = rbacInput(conn, http ? { ...req, path } : null, hcm);
  const rbacFilters = http
    ? arr(hcm.httpFilters).filter((f) => f.name === HTTP_RBAC)
    : chain.filters.filter((f) => f.name === NETWORK_RBAC);
  const steps = rbacFilters.flatMap((f) => stepsOf(push, obj(f.typedConfig), input));
  const jwt = http ? arr(hcm.httpFilters).find((f) => f.name === JWT_AUTHN) : undefined;
  const decided = decide(steps, 'match');
  const noToken = decided.decision === 'DEPENDS_ON_TOKEN' ? decide(steps, 'withoutToken') : null;
  return {
    ...at,
    path,
    ...decided,
    ...(noToken ? { withoutToken: noToken.decision === 'ALLOW' ? 'ALLOW' : 'DENY' } : {}),
    ...(noToken
      ? {
          summary: `${decided.summary}; without a token: ${noToken.decision === 'ALLOW' ? 'allowed' : 'denied'}`,
        }
      : {}),
    ...(jwt ? { requestAuthentication: requestAuthn(gen, enforcer, obj(jwt.typedConfig)) } : {}),
    steps: steps.map((s) => ({
      ...s,
      policies: s.policies.map((p) => ({ match: p.match, source: p.source })),
    })),
  };
}

/**
 * The original client as the HCM determines it (Envoy's rules, as the proxy's RBAC input does): with
 * use_remote_address the peer is appended to X-Forwarded-For first; then the entry xff_num_trusted_hops
 * left of the end, else the peer.
 */
function originalClient(hcm: Envoy, peer: string, headers: Readonly<Record<string, string>>): string {
  const useRemote = obj(hcm.useRemoteAddress).value === true || hcm.useRemoteAddress === true;
  const hops = Number(hcm.xffNumTrustedHops ?? 0);
  const xff = headers['x-forwarded-for'];
  if (useRemote && hops === 0) return peer;
  const list = xff === undefined ? [] : xff.split(',');
  if (useRemote) list.push(peer);
  const ip = list[list.length - 1 - hops]?.trim() ?? '';
  return ip !== '' ? ip : peer;
}

/** The RbacInput of the request at the enforcing listener; `req` null on TCP chains. */
function rbacInput(conn: Conn, req: AuthzRequest | null, hcm: Envoy): RbacInput {
  let headers: HeaderSource | null = null;
  if (req) {
    const pseudo: Record<string, string> = {
      ':method': req.method,
      ':path': req.path,
      ':authority': req.authority,
      ':scheme': 'http',
    };
    headers = { headers: { ...req.headers, host: req.authority }, pseudo: (n) => pseudo[n] };
  }
  const q = req ? req.path.indexOf('?') : -1;
  return {
    directRemoteIp: conn.directRemoteIp,
    remoteIp: req ? originalClient(hcm, conn.directRemoteIp, req.headers) : conn.directRemoteIp,
    localIp: conn.localIp,
    localPort: conn.localPort,
    sni: conn.sni,
    peerPrincipal: conn.peer,
    headers,
    path: req ? (q >= 0 ? req.path.slice(0, q) : req.path) : '',
    metadata: null,
  };
}

/** A step with each policy's outcome with and without a token. */
interface EvaluatedStep extends AuthzStep {
  readonly policies: ReadonlyArray<AuthzPolicyMatch & { readonly withoutToken: boolean }>;
}

function evaluatedStep(
  push: PushContext,
  r: RbacOutcome,
  action: AuthzStep['action'],
  dryRun: boolean,
): EvaluatedStep {
  return {
    action,
    dryRun,
    policies: r.policies.map((p) => ({
      match: p.match,
      withoutToken: p.matchesWithoutToken,
      source: authzPolicySource(push, p.id),
    })),
    ...(r.error ? { error: r.error } : {}),
  };
}

const ACTION: Record<RbacOutcome['action'], AuthzStep['action']> = {
  ALLOW: 'ALLOW',
  DENY: 'DENY',
  LOG: 'AUDIT',
};

/** The steps of one RBAC filter: its enforced rules and its shadow rules (CUSTOM's gate or dry-run). */
function stepsOf(push: PushContext, cfg: Envoy, input: RbacInput): EvaluatedStep[] {
  const out: EvaluatedStep[] = [];
  if (cfg.rules) {
    const r = evaluateRbac(obj(cfg.rules), input);
    out.push(evaluatedStep(push, r, ACTION[r.action], false));
  }
  if (cfg.shadowRules) {
    const r = evaluateRbac(obj(cfg.shadowRules), input);
    const custom = cfg.shadowRulesStatPrefix === EXT_AUTHZ_SHADOW_PREFIX;
    out.push(evaluatedStep(push, r, custom ? 'CUSTOM' : ACTION[r.action], !custom));
  }
  return out;
}

type Decided = Pick<AuthzExplain, 'decision' | 'summary' | 'policy'>;

function list(ps: readonly AuthzPolicyMatch[]): string {
  return ps.map((p) => whereOfPolicy(p.source)).join('; ');
}

/**
 * Istio's order over the enforced steps: a matching DENY denies; CUSTOM hands matching requests to
 * its provider; an ALLOW step denies unless one of its policies matches; nothing applying allows.
 * `which` reads the open (token) outcome or the outcome for a request without a token.
 */
function decide(steps: readonly EvaluatedStep[], which: 'match' | 'withoutToken'): Decided {
  const matchOf = (p: EvaluatedStep['policies'][number]): PolicyMatch =>
    which === 'match' ? p.match : p.withoutToken ? 'yes' : 'no';
  const pending: AuthzPolicyMatch[] = [];
  let external: AuthzPolicyMatch | undefined;
  let allowedBy: AuthzPolicyMatch | undefined;
  let enforced = false;
  for (const s of steps) {
    if (s.dryRun || s.action === 'AUDIT') continue;
    if (s.error)
      return { decision: 'DENY', summary: `undecided: the proxy cannot compile this RBAC (${s.error})` };
    enforced = true;
    const yes = s.policies.find((p) => matchOf(p) === 'yes');
    const open = s.policies.filter((p) => matchOf(p) === 'token');
    if (s.action === 'CUSTOM') {
      external ??= yes;
      pending.push(...open);
    } else if (s.action === 'DENY') {
      if (yes)
        return {
          decision: 'DENY',
          summary: `denied by ${whereOfPolicy(yes.source)} (DENY)`,
          policy: yes.source,
        };
      pending.push(...open);
    } else if (yes) allowedBy = yes;
    else if (open.length > 0) pending.push(...open);
    else
      return {
        decision: 'DENY',
        summary:
          s.policies.length > 0
            ? `denied: no ALLOW policy matches (${list(s.policies)})`
            : 'denied: ALLOW policies apply but none has a rule for this chain (HTTP-only rules are left out on TCP)',
        ...(s.policies[0] ? { policy: s.policies[0].source } : {}),
      };
  }
  if (pending.length > 0)
    return {
      decision: 'DEPENDS_ON_TOKEN',
      summary: `depends on the request's token (request.auth.* conditions of ${list(pending)})`,
      policy: pending[0].source,
    };
  if (external)
    return {
      decision: 'EXTERNAL',
      summary: `decided by the CUSTOM provider "${external.source.provider ?? '?'}" (${whereOfPolicy(external.source)})`,
      policy: external.source,
    };
  if (allowedBy)
    return {
      decision: 'ALLOW',
      summary: `allowed by ${whereOfPolicy(allowedBy.source)} (ALLOW)`,
      policy: allowedBy.source,
    };
  return {
    decision: 'ALLOW',
    summary: enforced
      ? 'allowed: no DENY policy matches and no ALLOW policy applies'
      : 'allowed: no policy applies',
  };
}

/** The JWT issuers the destination verifies and the RequestAuthentication resources behind them. */
function requestAuthn(gen: Generator, ref: ProxyRef, jwt: Envoy): { issuers: string[]; resources: string[] } {
  const issuers = Object.values(obj(jwt.providers)).map((p) => String(obj(p).issuer ?? ''));
  const resources = policiesFor(gen.scope(ref), 'RequestAuthentication').map((r) => {
    const src = sourceOf(r);
    const at = src ? ` at ${src.file}:${src.line}:${src.col}` : '';
    return `RequestAuthentication ${r.metadata.namespace ?? 'default'}/${r.metadata.name}${at}`;
  });
  return { issuers: [...new Set(issuers)].sort(), resources };
}
