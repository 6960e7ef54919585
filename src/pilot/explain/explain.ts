// `mizzen x explain`: which listener, route config, virtual host, route (and its VirtualService rule),
// cluster, subset, endpoints and policies a request from one proxy takes — computed from the Envoy
// config the control plane generates for that proxy, with the data plane's own route compiler.
import { TypeUrl } from '../../xds/type-urls.js';
import { structToJson, type CanonicalStruct } from '../../xds/struct.js';
import { RouteTable } from '../../proxy/http/route/route-table.js';
import {
  ActionKind,
  MATCHED,
  type RouteEntry,
  type RouteRequest,
} from '../../proxy/http/route/route-entry.js';
import type { Generator, ProxyRef } from '../generator.js';
import type { PushContext } from '../push-context.js';
import { FILTERS, type Envoy } from '../envoy.js';
import { RULE_METADATA } from '../route-http.js';
import { describeMismatch } from './mismatch.js';
import { ruleSource, type RuleSource } from './rule-source.js';
import { arr, obj } from './shape.js';
import { describeCluster, type ClusterExplain } from './cluster-explain.js';
import { explainAuthz, explainGatewayAuthz, type AuthzExplain } from './authz-explain.js';

/** The request to explain, as the source workload's app sends it. */
export interface ExplainRequest {
  readonly method: string;
  /** Host header, with or without a port. */
  readonly host: string;
  /** Destination port (the listener); default 80, or the port in `host`. */
  readonly port?: number;
  /** :path, query included. */
  readonly path: string;
  /** Lower-case header name → value. */
  readonly headers: Readonly<Record<string, string>>;
}

/** One route the virtual host tried, in order, up to and including the one that matched. */
export interface TriedRoute {
  readonly index: number;
  readonly name: string;
  readonly matched: boolean;
  /** Why it did not match (absent when it did). */
  readonly why?: string;
  /** The route's match, as Envoy config. */
  readonly match: unknown;
  /** The VirtualService rule it was generated from; absent for generated defaults. */
  readonly source?: RuleSource;
}

/** What the matched route does. */
export interface RouteOutcome {
  readonly action: 'route' | 'redirect' | 'direct_response' | 'non_forwarding';
  /** Route timeout in ms; 0 = none. */
  readonly timeoutMs: number;
  readonly retries?: { retryOn: string; numRetries: number; perTryTimeout?: unknown };
  readonly fault?: { delay?: string; abort?: string };
  readonly mirrors?: Array<{ cluster: string; percent: number }>;
  readonly rewrite?: { prefix?: string; host?: string };
  readonly redirect?: unknown;
  readonly directResponse?: { status: number; body?: string };
  readonly clusters: ClusterExplain[];
}

/** The whole answer. */
export interface Explanation {
  readonly proxy: string;
  readonly request: ExplainRequest & { authority: string; port: number };
  readonly listener?: { name: string; filterChain: string; routeConfig?: string; tcpCluster?: string };
  readonly virtualHost?: { name: string; domains: readonly string[] };
  readonly tried: TriedRoute[];
  readonly route?: TriedRoute & RouteOutcome;
  /** The authorization decision at each destination workload of the route's clusters. */
  readonly authz?: AuthzExplain[];
  /** Why the authorization decision could not be computed (the route explanation still stands). */
  readonly authzError?: string;
  /** What went wrong (no listener, no virtual host, no route: Envoy's 404 NR). */
  readonly error?: string;
}

/** What else the explainer may read. */
export interface ExplainOptions {
  /** The connected proxies (destination sidecars are looked up among them by address). */
  readonly proxies?: readonly ProxyRef[];
}

/** Explains `req` sent by proxy `ref` under the current push context. */
export function explain(
  gen: Generator,
  push: PushContext,
  ref: ProxyRef,
  req: ExplainRequest,
  opts: ExplainOptions = {},
): Explanation {
  const authorityPort = /:(\d+)$/.exec(req.host);
  const port = req.port ?? (authorityPort ? Number(authorityPort[1]) : 80);
  const authority = authorityPort || port === 80 ? req.host : `${req.host}:${port}`;
  const base = { proxy: ref.id, request: { ...req, authority, port }, tried: [] as TriedRoute[] };
  const listeners = gen.generate(ref, TypeUrl.LISTENER, []);
  const router = ref.id.startsWith('router~');
  const picked = pickListener(listeners, router, port);
  if (!picked) return { ...base, error: `no listener of this proxy takes port ${port}` };
  const { listener } = picked;
  const tcpCluster = picked.tcpCluster;
  if (tcpCluster)
    return {
      ...base,
      listener,
      ...guarded(() => explainAuthz(gen, push, ref, [tcpCluster], { ...req, authority }, opts.proxies)),
      route: {
        index: 0,
        name: 'tcp_proxy',
        matched: true,
        match: {},
        action: 'route',
        timeoutMs: 0,
        clusters: [describeCluster(gen, ref, tcpCluster, 1)],
      },
    };
  const [rc] = gen.wholeRouteConfigs(ref, [picked.routeConfig]);
  // The proxy's own compiler (per-filter configs kept raw: explain reads the fault config from them).
  if (!rc) return { ...base, listener, error: `route config ${picked.routeConfig} was not generated` };
  const table = new RouteTable(rc, (_name, cfg) => cfg);
  const vhost = table.virtualHost(authority);
  if (!vhost)
    return {
      ...base,
      listener,
      error: `no virtual host of ${picked.routeConfig} has domain ${authority} (404 NR)`,
    };
  const rq = routeRequest(req, authority);
  const rawRoutes = arr(arr(rc.virtualHosts).find((v) => v.name === vhost.name)?.routes);
  const tried: TriedRoute[] = [];
  let matched: RouteEntry | null = null;
  for (let i = 0; i < vhost.routes.length && !matched; i++) {
    const entry = vhost.routes[i];
    const code = entry.mismatch(rq);
    const raw = rawRoutes[i] ?? {};
    const source = sourceOfRoute(push, raw);
    tried.push({
      index: i,
      name: entry.name,
      matched: code === MATCHED,
      ...(code === MATCHED ? {} : { why: describeMismatch(code, obj(raw.match), rq) }),
      match: raw.match,
      ...(source ? { source } : {}),
    });
    if (code === MATCHED) matched = entry;
  }
  const virtualHost = { name: vhost.name, domains: vhost.domains };
  if (!matched) return { ...base, listener, virtualHost, tried, error: 'no route matches (404 NR)' };
  const last = tried[tried.length - 1];
  const raw = rawRoutes[last.index] ?? {};
  const route = { ...last, ...outcome(gen, ref, matched, raw) };
  // What the destination sees: the route's path and host rewrites applied.
  const upstream = {
    ...req,
    authority: matched.hostRewriteLiteral ?? authority,
    path: matched.rewritePath(rq) ?? req.path,
  };
  const clusters = route.action === 'route' ? route.clusters.map((c) => c.name) : [];
  const authz = guarded(() => {
    // A gateway's own policies see the request as it arrived, before the route's rewrites.
    const own = router
      ? explainGatewayAuthz(gen, push, ref, picked.raw, picked.chainIndex, { ...req, authority })
      : null;
    const at = explainAuthz(gen, push, ref, clusters, upstream, opts.proxies);
    return own ? [own, ...at] : at;
  });
  return { ...base, listener, virtualHost, tried, route, ...authz };
}

/** The authorization part, or why it failed: a failure there must not hide the route's explanation. */
function guarded(f: () => AuthzExplain[]): { authz: AuthzExplain[] } | { authzError: string } {
  try {
    return { authz: f() };
  } catch (e) {
    return { authzError: (e as Error).message };
  }
}

/** The RouteRequest the proxy's matcher reads, built from the described request. */
function routeRequest(req: ExplainRequest, authority: string): RouteRequest {
  const q = req.path.indexOf('?');
  const pathOnly = q < 0 ? req.path : req.path.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1));
  const headers: Record<string, string> = { ...req.headers, host: authority };
  const pseudo: Record<string, string> = {
    ':method': req.method,
    ':path': req.path,
    ':authority': authority,
    ':scheme': 'http',
  };
  return {
    method: req.method,
    pathOnly,
    path: req.path,
    scheme: 'http',
    authority,
    headers,
    isGrpc: (headers['content-type'] ?? '').startsWith('application/grpc'),
    pseudo: (n) => pseudo[n],
    queryParam: (n) => query.get(n) ?? undefined,
  };
}

interface PickedListener {
  listener: { name: string; filterChain: string; routeConfig?: string; tcpCluster?: string };
  routeConfig: string;
  tcpCluster?: string;
  /** The listener as generated and the index of the chain that takes the request. */
  raw: Envoy;
  chainIndex: number;
}

/**
 * The listener an outbound request to `port` reaches: a gateway's listener on that port; a sidecar's
 * `0.0.0.0_<port>` (captured traffic), else its HTTP_PROXY listener (interception NONE).
 */
function pickListener(listeners: readonly Envoy[], router: boolean, port: number): PickedListener | null {
  const portOf = (l: Envoy): number => Number(obj(obj(l.address).socketAddress).portValue ?? -1);
  const candidates = router
    ? listeners.filter((l) => portOf(l) === port)
    : [
        ...listeners.filter((l) => l.name === `0.0.0.0_${port}`),
        ...listeners.filter((l) =>
          chainsOf(l).some((c) => obj(hcmOf(c).rds).routeConfigName === 'http_proxy'),
        ),
      ];
  for (const l of candidates) {
    for (const [i, c] of chainsOf(l).entries()) {
      const m = obj(c.filterChainMatch);
      if (m.transportProtocol === 'tls') continue;
      if (m.destinationPort !== undefined && Number(m.destinationPort) !== port) continue;
      const chain = String(c.name ?? `filterChains[${i}]`);
      const name = String(l.name);
      const rds = obj(hcmOf(c).rds).routeConfigName;
      const at = { raw: l, chainIndex: i };
      if (typeof rds === 'string')
        return { listener: { name, filterChain: chain, routeConfig: rds }, routeConfig: rds, ...at };
      const tcp = arr(c.filters).find((f) => f.name === 'envoy.filters.network.tcp_proxy');
      const cluster = obj(tcp?.typedConfig).cluster;
      if (typeof cluster === 'string')
        return {
          listener: { name, filterChain: chain, tcpCluster: cluster },
          routeConfig: '',
          tcpCluster: cluster,
          ...at,
        };
    }
  }
  return null;
}

function chainsOf(l: Envoy): Envoy[] {
  return [...arr(l.filterChains), ...(l.defaultFilterChain ? [obj(l.defaultFilterChain)] : [])];
}

/** The chain's HttpConnectionManager config, or {}. */
function hcmOf(chain: Envoy): Envoy {
  const f = arr(chain.filters).find((x) => x.name === 'envoy.filters.network.http_connection_manager');
  return obj(f?.typedConfig);
}

/** The VirtualService rule a generated route names in its metadata. */
function sourceOfRoute(push: PushContext, raw: Envoy): RuleSource | undefined {
  const fm = obj(obj(raw.metadata).filterMetadata) as Record<string, CanonicalStruct | undefined>;
  const config = structToJson(fm['istio'])['config'];
  if (typeof config !== 'string') return undefined;
  const rule = structToJson(fm[RULE_METADATA]);
  return ruleSource(push, config, Number(rule['http'] ?? -1), Number(rule['match'] ?? -1));
}

/** Timeout, retries, fault, mirrors, rewrites and clusters of the matched route. */
function outcome(gen: Generator, ref: ProxyRef, e: RouteEntry, raw: Envoy): RouteOutcome {
  const action = obj(raw.route);
  const out: {
    -readonly [K in keyof RouteOutcome]: RouteOutcome[K];
  } = { action: 'route', timeoutMs: e.timeoutMs, clusters: [] };
  if (e.kind === ActionKind.Redirect)
    return { ...out, action: 'redirect', timeoutMs: 0, redirect: raw.redirect };
  if (e.kind === ActionKind.DirectResponse)
    return {
      ...out,
      action: 'direct_response',
      timeoutMs: 0,
      directResponse: { status: e.directStatus, ...(e.directBody !== null ? { body: e.directBody } : {}) },
    };
  if (e.kind === ActionKind.NonForwarding) return { ...out, action: 'non_forwarding', timeoutMs: 0 };
  if (action.retryPolicy) {
    const rp = obj(action.retryPolicy);
    out.retries = {
      retryOn: String(rp.retryOn ?? ''),
      numRetries: Number(obj(rp.numRetries).value ?? 1),
      ...(rp.perTryTimeout ? { perTryTimeout: rp.perTryTimeout } : {}),
    };
  }
  const fault = obj(raw.typedPerFilterConfig)[FILTERS.FAULT];
  if (fault) out.fault = describeFault(obj(fault));
  if (e.mirrors) out.mirrors = e.mirrors.map((m) => ({ cluster: m.cluster, percent: m.perMillion / 10_000 }));
  if (e.prefixRewrite !== null || e.hostRewriteLiteral !== null)
    out.rewrite = {
      ...(e.prefixRewrite !== null ? { prefix: e.prefixRewrite } : {}),
      ...(e.hostRewriteLiteral !== null ? { host: e.hostRewriteLiteral } : {}),
    };
  if (e.cluster !== null) out.clusters = [describeCluster(gen, ref, e.cluster, 1)];
  else if (e.weighted) {
    const total = e.weighted.reduce((n, w) => n + w.weight, 0);
    out.clusters = e.weighted.map((w) => describeCluster(gen, ref, w.name, w.weight / total));
  }
  return out;
}

function percentOf(x: unknown): number {
  if (!x) return 100;
  const p = obj(x);
  const n = Number(p.numerator ?? 0);
  const d = p.denominator === 'TEN_THOUSAND' ? 10_000 : p.denominator === 'MILLION' ? 1_000_000 : 100;
  return (n * 100) / d;
}

function describeFault(f: Envoy): { delay?: string; abort?: string } {
  const out: { delay?: string; abort?: string } = {};
  if (f.delay) {
    const d = obj(f.delay);
    const fd = obj(d.fixedDelay);
    const ms = Number(fd.seconds ?? 0) * 1000 + Math.round(Number(fd.nanos ?? 0) / 1e6);
    out.delay = `${ms} ms delay for ${percentOf(d.percentage)}% of requests`;
  }
  if (f.abort) {
    const a = obj(f.abort);
    const what =
      a.httpStatus !== undefined
        ? `HTTP ${String(a.httpStatus)}`
        : a.grpcStatus !== undefined
          ? `grpc-status ${String(a.grpcStatus)}`
          : 'abort';
    out.abort = `${what} for ${percentOf(a.percentage)}% of requests`;
  }
  return out;
}
