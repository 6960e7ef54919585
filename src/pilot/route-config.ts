// Sidecar route configurations: one per outbound HTTP port (named by the port) and `http_proxy`.
import type { MeshService } from '../registry/model.js';
import { hostMatches } from '../registry/host.js';
import { isHttp } from '../registry/protocol.js';
import { buildDefaultRoute, buildVirtualServiceRoutes, type RouteContext } from './route-http.js';
import { serviceDomains } from './domains.js';
import type {
  envoy_config_route_v3_Route as Route,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
  envoy_config_route_v3_VirtualHost as VirtualHost,
} from '../xds/envoy-types.js';
import { duration, PASSTHROUGH_CLUSTER, wrap } from './envoy.js';
import type { VirtualServiceEntry } from './push-context.js';
import type { ProxyScope } from './scoping.js';

const MESH: ReadonlySet<string> = new Set(['mesh']);

/** Name of the route config the HTTP proxy listener uses (local mode). */
export const HTTP_PROXY_ROUTE = 'http_proxy';

/** True when a port is routed by HTTP on sidecars (declared HTTP-like, or undeclared and sniffed). */
export function isHttpPort(protocol: MeshService['ports'][number]['protocol']): boolean {
  return isHttp(protocol) || protocol === 'UNSUPPORTED';
}

/** The VirtualService for a host among `vss`: an exact host first, else the longest matching wildcard. */
export function virtualServiceForHost(
  vss: readonly VirtualServiceEntry[],
  hostname: string,
): VirtualServiceEntry | undefined {
  const exact = vss.find((v) => v.hosts.includes(hostname));
  if (exact) return exact;
  let best: VirtualServiceEntry | undefined;
  let bestLen = -1;
  for (const v of vss)
    for (const h of v.hosts)
      if (h.includes('*') && hostMatches(h, hostname) && h.length > bestLen) {
        best = v;
        bestLen = h.length;
      }
  return best;
}

/** The routes of one service port: its VirtualService's, else (or if none applies) the default route. */
export function serviceRoutes(
  scope: ProxyScope,
  svc: MeshService,
  port: number,
  vss: readonly VirtualServiceEntry[],
  grpc = false,
): Route[] {
  const ctx: RouteContext = { scope, port, grpc, gateways: MESH };
  const vs = virtualServiceForHost(vss, svc.hostname);
  const routes = vs ? buildVirtualServiceRoutes(ctx, vs) : [];
  return routes.length > 0 ? routes : [buildDefaultRoute(ctx, svc, port)];
}

/** The catch-all virtual host: PassthroughCluster (ALLOW_ANY) or a 502 (REGISTRY_ONLY), as Istio. */
export function catchAllVirtualHost(scope: ProxyScope): VirtualHost {
  if (scope.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    return {
      name: 'block_all',
      domains: ['*'],
      routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }],
      includeRequestAttemptCount: true,
    };
  }
  return {
    name: 'allow_any',
    domains: ['*'],
    routes: [
      {
        name: 'allow_any',
        match: { prefix: '/' },
        route: { cluster: PASSTHROUGH_CLUSTER, timeout: duration(0) },
      },
    ],
    includeRequestAttemptCount: true,
  };
}

/** Drops domains an earlier virtual host already claimed (Envoy rejects duplicates) and empty hosts. */
export function uniqueDomains(virtualHosts: VirtualHost[]): VirtualHost[] {
  const seen = new Set<string>();
  const out: VirtualHost[] = [];
  for (const vh of virtualHosts) {
    const domains = (vh.domains ?? []).filter((d) => !seen.has(d));
    for (const d of domains) seen.add(d);
    if (domains.length > 0) out.push({ ...vh, domains });
  }
  return out;
}

/** The route config for outbound HTTP port `port` (named `"9080"`): a virtual host per visible service on that port. */
export function buildOutboundRouteConfig(scope: ProxyScope, port: number): RouteConfiguration {
  const vss = scope.virtualServices(MESH);
  const virtualHosts: VirtualHost[] = [];
  for (const svc of scope.services) {
    const sp = svc.ports.find((p) => p.port === port);
    if (!sp || !isHttpPort(sp.protocol)) continue;
    virtualHosts.push({
      name: `${svc.hostname}:${port}`,
      domains: serviceDomains(svc, port, scope.proxy.namespace),
      routes: serviceRoutes(scope, svc, port, vss),
      includeRequestAttemptCount: true,
    });
  }
  virtualHosts.push(catchAllVirtualHost(scope));
  return { name: String(port), virtualHosts: uniqueDomains(virtualHosts), validateClusters: wrap(false) };
}

/**
 * The `http_proxy` route config (local mode: apps send absolute-form requests to podIP:15001): every
 * visible service's HTTP ports, with domains `host:port` (and bare names for port 80).
 */
export function buildHttpProxyRouteConfig(scope: ProxyScope): RouteConfiguration {
  const vss = scope.virtualServices(MESH);
  const virtualHosts: VirtualHost[] = [];
  for (const svc of scope.services) {
    for (const sp of svc.ports) {
      if (!isHttpPort(sp.protocol)) continue;
      virtualHosts.push({
        name: `${svc.hostname}:${sp.port}`,
        domains: serviceDomains(svc, sp.port, scope.proxy.namespace, true),
        routes: serviceRoutes(scope, svc, sp.port, vss),
        includeRequestAttemptCount: true,
      });
    }
  }
  virtualHosts.push(catchAllVirtualHost(scope));
  return { name: HTTP_PROXY_ROUTE, virtualHosts: uniqueDomains(virtualHosts), validateClusters: wrap(false) };
}

/**
 * A route configuration as served over VHDS: the same configuration without its virtual hosts, which the
 * proxy fetches by VHDS over the ADS stream (see {@link vhdsVirtualHosts}).
 */
export function vhdsRouteConfig(rc: RouteConfiguration): RouteConfiguration {
  const { virtualHosts: _, ...rest } = rc;
  return { ...rest, vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } } };
}

/**
 * The virtual hosts of a route configuration as VHDS resources: each named `<route config>/<virtual host>`
 * (Envoy's VHDS naming, which its namespace-matched subscription to the route config's name selects). The
 * catch-all is among them, so every route configuration has at least one.
 */
export function vhdsVirtualHosts(rc: RouteConfiguration): VirtualHost[] {
  return (rc.virtualHosts ?? []).map((vh) => ({ ...vh, name: `${rc.name}/${vh.name}` }));
}

/** The outbound HTTP ports a sidecar gets a route config (and listener) for. */
export function outboundHttpPorts(scope: ProxyScope): number[] {
  const ports = new Set<number>();
  for (const svc of scope.services) for (const p of svc.ports) if (isHttpPort(p.protocol)) ports.add(p.port);
  return [...ports].sort((a, b) => a - b);
}
