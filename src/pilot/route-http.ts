// VirtualService http rules → Envoy routes (in order, one route per match entry), delegation, and the
// default route of a service without a VirtualService.
import type { HTTPMatchRequest, HTTPRoute } from '../api/kinds/networking/virtual-service.js';
import type { MeshService } from '../registry/model.js';
import { structFromJson } from '../xds/struct.js';
import { matchApplies, translateRouteMatch } from './route-match.js';
import {
  hashPolicyFor,
  translateDirectResponse,
  translateRedirect,
  translateRouteAction,
  type ActionContext,
} from './route-action.js';
import { translateFault } from './fault.js';
import { translateCors } from './cors.js';
import { applyHeaders } from './headers.js';
import { translateRetry } from './retry.js';
import type {
  AnyMessageOf,
  envoy_config_route_v3_Route as Route,
  envoy_config_route_v3_RouteAction as RouteAction,
} from '../xds/envoy-types.js';
import { duration, FILTERS, outboundClusterName } from './envoy.js';
import { resolveGatewayRef, type VirtualServiceEntry } from './push-context.js';

/** What building routes needs: the proxy's scope, the port, and which gateways (or `mesh`) apply. */
export interface RouteContext extends ActionContext {
  /** `mesh` for sidecars, `ns/name` of the Gateways serving this port for gateways. */
  readonly gateways: ReadonlySet<string>;
}

/** The routes of a VirtualService for this context, in rule order; empty when no rule applies. */
export function buildVirtualServiceRoutes(ctx: RouteContext, vs: VirtualServiceEntry): Route[] {
  const out: Route[] = [];
  const rules = vs.resource.spec.http ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule.delegate) {
      const ns = rule.delegate.namespace ?? vs.namespace;
      const d = ctx.scope.push.virtualServicesByName.get(`${ns}/${rule.delegate.name}`);
      if (!d || d.hosts.length > 0) continue; // a delegate must not have hosts
      const delegated = d.resource.spec.http ?? [];
      for (let j = 0; j < delegated.length; j++) {
        const dr = delegated[j];
        if (dr.delegate) continue; // one level of delegation only, as Istio
        const merged = mergeMatches(rule.match, dr.match);
        if (merged === null) continue;
        out.push(...rulesRoutes(ctx, dr, merged, d, vs.namespace, j, merged === dr.match));
      }
      continue;
    }
    out.push(...rulesRoutes(ctx, rule, rule.match, vs, vs.namespace, i, true));
  }
  return out;
}

/** Routes for one rule: one per applicable match entry (or one match-all route). */
function rulesRoutes(
  ctx: RouteContext,
  rule: HTTPRoute,
  matches: HTTPMatchRequest[] | undefined,
  vs: VirtualServiceEntry,
  rootNamespace: string,
  ruleIndex: number,
  ownMatches: boolean,
): Route[] {
  const applicable =
    matches && matches.length > 0
      ? matches.filter((m) =>
          matchApplies(
            m,
            {
              port: ctx.port,
              labels: ctx.scope.proxy.labels,
              namespace: ctx.scope.proxy.namespace,
              gateways: ctx.gateways,
            },
            (g) => resolveGatewayRef(g, rootNamespace),
          ),
        )
      : [undefined];
  if (applicable.length === 0) return [];
  const out: Route[] = [];
  for (const m of applicable) {
    const at = { http: ruleIndex, match: ownMatches && m ? (matches?.indexOf(m) ?? -1) : -1 };
    const r = translateRule(ctx, rule, m, vs, at);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Route metadata key (filter_metadata) naming the VirtualService rule a route came from:
 * `{ http: i, match: j }` (indexes into spec.http and its match list; no `match` for a match-all rule
 * or a delegate's merged matches). Read by `mizzen x explain`; Envoy ignores unknown metadata.
 */
export const RULE_METADATA = 'mizzen.io/rule';

/** Which rule (and match entry) of a VirtualService a route comes from. */
interface RuleRef {
  readonly http: number;
  readonly match: number;
}

/** One Envoy route for a rule and one of its match entries; null when its destinations do not resolve. */
function translateRule(
  ctx: RouteContext,
  rule: HTTPRoute,
  m: HTTPMatchRequest | undefined,
  vs: VirtualServiceEntry,
  at: RuleRef,
): Route | null {
  const route: Route = { match: translateRouteMatch(m) };
  const name = m?.name && rule.name ? `${rule.name}.${m.name}` : (rule.name ?? m?.name);
  if (name) route.name = name;
  const fault = translateFault(rule.fault);
  if (rule.redirect) translateRedirect(rule, route);
  else if (rule.directResponse) translateDirectResponse(rule, route);
  else if (!translateRouteAction(ctx, rule, vs.namespace, route, fault !== null)) return null;
  applyHeaders(route, rule.headers);
  const perFilter: Record<string, AnyMessageOf> = {};
  if (fault) perFilter[FILTERS.FAULT] = fault;
  if (!ctx.grpc) {
    const cors = translateCors(rule.corsPolicy);
    if (cors) perFilter[FILTERS.CORS] = cors;
  }
  if (Object.keys(perFilter).length > 0) route.typedPerFilterConfig = perFilter;
  route.metadata = {
    filterMetadata: {
      istio: structFromJson({
        config: `/apis/networking.istio.io/v1/namespaces/${vs.namespace}/virtual-service/${vs.name}`,
      }),
      [RULE_METADATA]: structFromJson(at.match >= 0 ? { ...at } : { http: at.http }),
    },
  };
  return route;
}

/**
 * Merges a root rule's match entries with a delegate's (every combination must hold: AND). The
 * delegate's uri wins when both set one; null when the combination can never match.
 */
function mergeMatches(
  root: HTTPMatchRequest[] | undefined,
  del: HTTPMatchRequest[] | undefined,
): HTTPMatchRequest[] | undefined | null {
  if (!root || root.length === 0) return del;
  if (!del || del.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const r of root) {
    for (const d of del) {
      if (
        r.uri?.prefix !== undefined &&
        d.uri?.prefix !== undefined &&
        !d.uri.prefix.startsWith(r.uri.prefix)
      )
        continue;
      out.push({
        ...r,
        ...d,
        uri: d.uri ?? r.uri,
        headers: { ...r.headers, ...d.headers },
        queryParams: { ...r.queryParams, ...d.queryParams },
        withoutHeaders: { ...r.withoutHeaders, ...d.withoutHeaders },
      });
    }
  }
  return out.length > 0 ? out : null;
}

/** The route of a service port without a VirtualService: everything to `outbound|port||host`. */
export function buildDefaultRoute(ctx: ActionContext, svc: MeshService, port: number): Route {
  const action: RouteAction = { cluster: outboundClusterName(port, '', svc.hostname), timeout: duration(0) };
  const retry = translateRetry(undefined, { hostPredicate: !ctx.grpc });
  if (retry) action.retryPolicy = retry;
  const hash = hashPolicyFor(ctx, { host: svc.hostname, port: { number: port } }, svc.namespace);
  if (hash.length > 0) action.hashPolicy = hash;
  return { name: 'default', match: { prefix: '/' }, route: action };
}
