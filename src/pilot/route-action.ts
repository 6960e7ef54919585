// One VirtualService http rule's action → Envoy route action, redirect or direct response.
import type { Destination, HTTPRoute } from '../api/kinds/networking/virtual-service.js';
import { resolveHost } from '../registry/host.js';
import { applyHeaders } from './headers.js';
import { translateRetry } from './retry.js';
import { translateMirrors } from './mirror.js';
import { translateHashPolicy } from './hash-policy.js';
import { effectivePolicy } from './destination-policy.js';
import type {
  envoy_config_route_v3_DirectResponseAction as DirectResponseAction,
  envoy_config_route_v3_RedirectAction as RedirectAction,
  envoy_config_route_v3_RedirectAction_RedirectResponseCode as RedirectResponseCode,
  envoy_config_route_v3_Route as Route,
  envoy_config_route_v3_RouteAction as RouteAction,
  envoy_config_route_v3_RouteAction_HashPolicy as HashPolicy,
  envoy_config_route_v3_WeightedCluster_ClusterWeight as ClusterWeight,
} from '../xds/envoy-types.js';
import { duration, durationMs, outboundClusterName, wrap } from './envoy.js';
import type { ProxyScope } from './scoping.js';

/** What translating a rule's action needs to know. */
export interface ActionContext {
  readonly scope: ProxyScope;
  /** Port of the route config (fallback for multi-port destinations without a port); null if unknown. */
  readonly port: number | null;
  /** Proxyless gRPC clients: no retry host predicate. */
  readonly grpc: boolean;
}

/** A destination's cluster: host resolved in `namespace`, port from the destination, the service or the context. */
export function destinationCluster(ctx: ActionContext, d: Destination, namespace: string): string | null {
  const host = resolveHost(d.host, namespace);
  const svc = ctx.scope.service(host);
  const port = d.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0].port : ctx.port);
  if (port === null || port === undefined) return null;
  return outboundClusterName(port, d.subset ?? '', host);
}

const REDIRECT_CODES: Record<number, RedirectResponseCode> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/** Writes `redirect` onto the route; 301 is the enum's default, so canonical form omits it. */
export function translateRedirect(rule: HTTPRoute, route: Route): void {
  const r = rule.redirect!;
  const out: RedirectAction = {};
  if (r.uri !== undefined) out.pathRedirect = r.uri;
  if (r.authority) out.hostRedirect = r.authority;
  if (r.port) out.portRedirect = r.port;
  if (r.scheme) out.schemeRedirect = r.scheme;
  const code = REDIRECT_CODES[r.redirectCode ?? 301];
  if (code && code !== 'MOVED_PERMANENTLY') out.responseCode = code;
  route.redirect = out;
}

/** Writes `directResponse` onto the route. */
export function translateDirectResponse(rule: HTTPRoute, route: Route): void {
  const d = rule.directResponse!;
  const out: DirectResponseAction = { status: d.status };
  if (d.body?.string !== undefined) out.body = { inlineString: d.body.string };
  else if (d.body?.bytes !== undefined) out.body = { inlineBytes: Buffer.from(d.body.bytes, 'base64') };
  route.directResponse = out;
}

/**
 * Writes the RouteAction of a rule with `route` destinations onto `route` (and destination-level
 * header operations). Returns false when no destination resolves to a cluster.
 */
export function translateRouteAction(
  ctx: ActionContext,
  rule: HTTPRoute,
  namespace: string,
  route: Route,
  hasFault: boolean,
): boolean {
  const dests = (rule.route ?? []).filter((d) => rule.route!.length === 1 || (d.weight ?? 0) > 0);
  const clusters: { name: string; weight: number; d: (typeof dests)[number] }[] = [];
  for (const d of dests) {
    const name = destinationCluster(ctx, d.destination, namespace);
    if (name) clusters.push({ name, weight: d.weight ?? 0, d });
  }
  if (clusters.length === 0) return false;
  const action: RouteAction = {};
  if (clusters.length === 1) {
    action.cluster = clusters[0].name;
    applyHeaders(route, clusters[0].d.headers);
  } else {
    const total = clusters.reduce((s, c) => s + c.weight, 0);
    action.weightedClusters = {
      clusters: clusters.map((c) => {
        const cw: ClusterWeight = { name: c.name, weight: wrap(total === 0 ? 1 : c.weight) };
        applyHeaders(cw, c.d.headers);
        return cw;
      }),
    };
  }
  const timeoutMs = hasFault ? 0 : (durationMs(rule.timeout) ?? 0);
  action.timeout = duration(timeoutMs);
  if (timeoutMs > 0)
    action.maxStreamDuration = {
      maxStreamDuration: duration(timeoutMs),
      grpcTimeoutHeaderMax: duration(timeoutMs),
    };
  if (!hasFault) {
    const retry = translateRetry(rule.retries, { hostPredicate: !ctx.grpc });
    if (retry) {
      if (timeoutMs > 0 && retry.perTryTimeout) {
        const per = durationMs(rule.retries?.perTryTimeout) ?? 0;
        if (per > timeoutMs) retry.perTryTimeout = duration(timeoutMs);
      }
      action.retryPolicy = retry;
    }
  }
  const mirrors = translateMirrors(rule, (d) => destinationCluster(ctx, d, namespace));
  if (mirrors.length > 0) action.requestMirrorPolicies = mirrors;
  const rw = rule.rewrite;
  if (rw?.uri !== undefined) action.prefixRewrite = rw.uri;
  if (rw?.uriRegexRewrite?.match !== undefined)
    action.regexRewrite = {
      pattern: { regex: rw.uriRegexRewrite.match },
      substitution: rw.uriRegexRewrite.rewrite ?? '',
    };
  if (rw?.authority) action.hostRewriteLiteral = rw.authority;
  const hash = hashPolicyFor(ctx, clusters[0].d.destination, namespace);
  if (hash.length > 0) action.hashPolicy = hash;
  route.route = action;
  return true;
}

/** Hash policies from the DestinationRule of the (first) destination, for ring hash / maglev. */
export function hashPolicyFor(ctx: ActionContext, d: Destination, namespace: string): HashPolicy[] {
  const host = resolveHost(d.host, namespace);
  const dr = ctx.scope.destinationRule(host);
  if (!dr) return [];
  const svc = ctx.scope.service(host);
  const port = d.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0].port : (ctx.port ?? 0));
  return translateHashPolicy(effectivePolicy(dr, d.subset ?? '', port).loadBalancer?.consistentHash);
}
