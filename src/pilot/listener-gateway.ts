// Gateways (router~ proxies): the Gateway servers selected by the proxy's labels become listeners per
// port (HTTP → RDS `http.PORT`, HTTPS → TLS-terminating filter chains, TCP and TLS → tcp_proxy chains
// from the bound VirtualServices' tcp/tls rules, selected by SNI for TLS), and bound VirtualServices
// become the virtual hosts of their route configs.
import { hostMatches } from '../registry/host.js';
import { selects } from '../registry/labels.js';
import { buildVirtualServiceRoutes, type RouteContext } from './route-http.js';
import { buildHcmFilter } from './http-connection-manager.js';
import { buildSecurityFilters } from './authz/security-filters.js';
import { buildServerTransportSocket, terminatesTls } from './gateway-tls.js';
import { buildMetadataExchangeFilter } from './metadata-exchange.js';
import { ALPN_DOWNSTREAM } from './istio-mutual.js';
import {
  buildL4Proxy,
  l4Clusters,
  l4MatchApplies,
  prefixRanges,
  type L4Context,
  type WeightedCluster,
} from './tcp-route.js';
import type {
  envoy_config_listener_v3_FilterChain as FilterChain,
  envoy_config_listener_v3_FilterChainMatch as FilterChainMatch,
  envoy_config_listener_v3_Listener as Listener,
  envoy_config_route_v3_Route as Route,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
  envoy_config_route_v3_VirtualHost as VirtualHost,
} from '../xds/envoy-types.js';
import { socketAddress, wrap } from './envoy.js';
import { tlsInspector } from './inbound-mtls.js';
import { ChainSet } from './filter-chain-set.js';
import { buildSniDnatChains, isAutoPassthrough } from './sni-dnat.js';
import type { Gateway, Server } from '../api/kinds/networking/gateway.js';
import type { VirtualServiceEntry } from './push-context.js';
import type { ProxyScope } from './scoping.js';

/** A server with the Gateway it belongs to. */
interface BoundServer {
  readonly server: Server;
  readonly gateway: string;
  readonly namespace: string;
}

/** One gateway port: where it binds and which servers it serves. */
export interface GatewayPort {
  /** Gateway server port number (as in the Gateway resource). */
  readonly port: number;
  /** The port actually bound (port + offset for ports < 1024 in local mode). */
  readonly boundPort: number;
  readonly bindAddress: string;
  readonly servers: readonly BoundServer[];
}

function isHttpServer(s: Server): boolean {
  const p = s.port.protocol.toUpperCase();
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB';
}

/** HTTPS terminated at the gateway (HTTPS without a passthrough mode). */
function isTerminatedHttps(s: Server): boolean {
  return s.port.protocol.toUpperCase() === 'HTTPS' && !isPassthrough(s);
}

/** TLS forwarded untouched, routed by SNI (`tls` rules): PASSTHROUGH, or a TLS server without a mode (AUTO_PASSTHROUGH: sni-dnat.ts). */
function isPassthrough(s: Server): boolean {
  const p = s.port.protocol.toUpperCase();
  if (p !== 'HTTPS' && p !== 'TLS') return false;
  const m = s.tls?.mode;
  return m === 'PASSTHROUGH' || (p === 'TLS' && m === undefined);
}

/** The AUTO_PASSTHROUGH servers of the gateway's Gateways. */
export function autoPassthroughServers(scope: ProxyScope): Server[] {
  return selectedGateways(scope).flatMap((g) => (g.spec?.servers ?? []).filter(isAutoPassthrough));
}

/** The Gateways whose selector matches the proxy's labels (an empty selector selects every gateway). */
export function selectedGateways(scope: ProxyScope): Gateway[] {
  return scope.push.gateways.filter((g) => selects(g.spec?.selector, scope.proxy.labels));
}

/** The gateway's ports with their servers, bind address and bound port. */
export function gatewayPorts(scope: ProxyScope): GatewayPort[] {
  const byPort = new Map<number, BoundServer[]>();
  for (const g of selectedGateways(scope)) {
    const ns = g.metadata.namespace ?? 'default';
    for (const server of g.spec?.servers ?? []) {
      let l = byPort.get(server.port.number);
      if (!l) byPort.set(server.port.number, (l = []));
      l.push({ server, gateway: `${ns}/${g.metadata.name}`, namespace: ns });
    }
  }
  const proxy = scope.proxy;
  const local = proxy.interceptionMode === 'NONE';
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, servers]) => ({
      port,
      boundPort: port < 1024 && proxy.gatewayPortOffset > 0 ? port + proxy.gatewayPortOffset : port,
      bindAddress: servers[0].server.bind ?? (local ? '127.0.0.1' : '0.0.0.0'),
      servers,
    }));
}

/** Name of the route config of a port's plain HTTP servers. */
export function httpRouteName(p: GatewayPort): string {
  return `http.${p.boundPort}`;
}

/** Name of the route config of one HTTPS server. */
export function httpsRouteName(p: GatewayPort, b: BoundServer): string {
  const [ns, name] = b.gateway.split('/');
  return `https.${p.port}.${b.server.port.name ?? ''}.${name}.${ns}`;
}

/** Every gateway listener. */
export function buildGatewayListeners(scope: ProxyScope): Listener[] {
  const out: Listener[] = [];
  const sec = buildSecurityFilters(scope);
  const hops = scope.push.mesh.numTrustedProxies;
  for (const p of gatewayPorts(scope)) {
    const name = `0.0.0.0_${p.boundPort}`;
    const chains = new ChainSet();
    for (const b of p.servers) {
      if (isTerminatedHttps(b.server)) {
        chains.add({
          filterChainMatch: sniMatch(b.server),
          transportSocket: buildServerTransportSocket(b.server, ['h2', 'http/1.1']),
          filters: [
            buildHcmFilter({
              statPrefix: `outbound_${name}`,
              rds: httpsRouteName(p, b),
              gateway: true,
              pathNormalization: scope.push.mesh.pathNormalization,
              securityFilters: sec.http,
              xffNumTrustedHops: hops,
            }),
          ],
        });
      } else if (isAutoPassthrough(b.server)) {
        for (const c of buildSniDnatChains(scope, b.server))
          chains.add({ ...c, filters: [...sec.tcp, ...(c.filters ?? [])] });
      } else if (isPassthrough(b.server)) {
        for (const c of passthroughChains(scope, p, b))
          chains.add({ ...c, filters: [...sec.tcp, ...(c.filters ?? [])] });
      } else if (!isHttpServer(b.server)) {
        const clusters = firstTcpRoute(scope, p, b);
        if (!clusters) continue;
        // ISTIO_MUTUAL: a mesh client may exchange metadata (Istio's includeMx, ALPNDownstreamWithMxc).
        const mx = b.server.tls?.mode === 'ISTIO_MUTUAL';
        const l4 = [...sec.tcp, buildL4Proxy(scope, clusters)];
        const chain: FilterChain = { filters: mx ? [buildMetadataExchangeFilter(), ...l4] : l4 };
        // A TLS server in SIMPLE/MUTUAL mode terminates TLS, then forwards the bytes by its tcp rules.
        if (terminatesTls(b.server.tls)) {
          chain.filterChainMatch = sniMatch(b.server);
          chain.transportSocket = buildServerTransportSocket(b.server, mx ? ALPN_DOWNSTREAM : []);
        }
        chains.add(chain);
      }
    }
    if (p.servers.some((b) => isHttpServer(b.server)))
      chains.add({
        filters: [
          buildHcmFilter({
            statPrefix: `outbound_${name}`,
            rds: httpRouteName(p),
            gateway: true,
            pathNormalization: scope.push.mesh.pathNormalization,
            securityFilters: sec.http,
            xffNumTrustedHops: hops,
          }),
        ],
      });
    if (chains.list.length === 0) continue;
    const listener: Listener = {
      name,
      address: socketAddress(p.bindAddress, p.boundPort),
      trafficDirection: 'OUTBOUND',
      filterChains: chains.list,
    };
    if (chains.inspectsTls) listener.listenerFilters = [tlsInspector()];
    out.push(listener);
  }
  return out;
}

/** Every gateway route config name. */
export function gatewayRouteNames(scope: ProxyScope): string[] {
  const out: string[] = [];
  for (const p of gatewayPorts(scope)) {
    if (p.servers.some((b) => isHttpServer(b.server))) out.push(httpRouteName(p));
    for (const b of p.servers) if (isTerminatedHttps(b.server)) out.push(httpsRouteName(p, b));
  }
  return out;
}

/** The route config with this name, or null. */
export function buildGatewayRouteConfig(scope: ProxyScope, routeName: string): RouteConfiguration | null {
  for (const p of gatewayPorts(scope)) {
    if (routeName === httpRouteName(p)) {
      const servers = p.servers.filter((b) => isHttpServer(b.server));
      if (servers.length > 0) return routeConfig(scope, routeName, p, servers);
    }
    for (const b of p.servers)
      if (isTerminatedHttps(b.server) && routeName === httpsRouteName(p, b))
        return routeConfig(scope, routeName, p, [b]);
  }
  return null;
}

function stripNamespace(h: string): string {
  const i = h.indexOf('/');
  return (i >= 0 ? h.slice(i + 1) : h).toLowerCase();
}

/** True when a server host (`ns/host`, `./host`, `*\/host`) admits the VirtualService's namespace. */
function namespaceAdmits(serverHost: string, gwNamespace: string, vsNamespace: string): boolean {
  const i = serverHost.indexOf('/');
  if (i < 0) return true;
  const ns = serverHost.slice(0, i);
  return ns === '*' || (ns === '.' ? gwNamespace : ns) === vsNamespace;
}

/** The hosts a VirtualService serves on a server: each VS host intersected with the server's hosts (the narrower wins). */
function servedHosts(vs: VirtualServiceEntry, b: BoundServer): string[] {
  const out = new Set<string>();
  for (const sh of b.server.hosts) {
    if (!namespaceAdmits(sh, b.namespace, vs.namespace)) continue;
    const s = stripNamespace(sh);
    for (const h of vs.hosts) {
      if (hostMatches(s, h)) out.add(h);
      else if (hostMatches(h, s)) out.add(s);
    }
  }
  return [...out];
}

function routeConfig(
  scope: ProxyScope,
  name: string,
  p: GatewayPort,
  servers: readonly BoundServer[],
): RouteConfiguration {
  const gateways = new Set(servers.map((b) => b.gateway));
  const ctx: RouteContext = { scope, port: p.port, grpc: false, gateways };
  const hosts = new Map<string, Route[]>();
  const redirect = new Set<string>();
  for (const vs of scope.virtualServices(gateways)) {
    if (!vs.resource.spec.http?.length) continue;
    const vsHosts = new Set<string>();
    for (const b of servers) {
      if (!vs.gateways.has(b.gateway)) continue;
      for (const h of servedHosts(vs, b)) {
        vsHosts.add(h);
        if (b.server.tls?.httpsRedirect) redirect.add(h);
      }
    }
    if (vsHosts.size === 0) continue;
    const routes = buildVirtualServiceRoutes(ctx, vs);
    if (routes.length === 0) continue;
    for (const h of vsHosts) hosts.set(h, [...(hosts.get(h) ?? []), ...routes]);
  }
  const virtualHosts: VirtualHost[] = [];
  for (const [h, routes] of hosts) {
    const domains = h === '*' ? ['*'] : [...new Set([h, `${h}:${p.port}`, `${h}:${p.boundPort}`])];
    const vh: VirtualHost = { name: `${h}:${p.port}`, domains, routes, includeRequestAttemptCount: true };
    if (redirect.has(h)) vh.requireTls = 'ALL';
    virtualHosts.push(vh);
  }
  if (virtualHosts.length === 0) virtualHosts.push({ name: `blackhole:${p.port}`, domains: ['*'] });
  return { name, virtualHosts, validateClusters: wrap(false) };
}

/** SNI match of a terminating server: its hosts, none for `*` (any name, and no SNI at all). */
function sniMatch(server: Server): FilterChainMatch {
  const hosts = server.hosts.map(stripNamespace);
  if (hosts.includes('*')) return {};
  return { serverNames: hosts };
}

/** TLS passthrough: a chain per `tls` rule match, selected by SNI (sniHosts within the server's hosts). */
function passthroughChains(scope: ProxyScope, p: GatewayPort, b: BoundServer): FilterChain[] {
  const out: FilterChain[] = [];
  const ctx: L4Context = { scope, port: p.port, gateways: new Set([b.gateway]) };
  for (const vs of scope.virtualServices(ctx.gateways)) {
    if (servedHosts(vs, b).length === 0) continue;
    for (const r of vs.resource.spec.tls ?? []) {
      for (const m of r.match ?? []) {
        if (!l4MatchApplies(ctx, m, vs.namespace)) continue;
        const sni = admittedSni(m.sniHosts, b);
        if (sni.length === 0) continue;
        const clusters = l4Clusters(ctx, r.route, vs.namespace);
        if (clusters.length === 0) continue;
        const match: FilterChainMatch = { serverNames: sni };
        if (m.destinationSubnets?.length) match.prefixRanges = prefixRanges(m.destinationSubnets);
        out.push({ filterChainMatch: match, filters: [buildL4Proxy(scope, clusters)] });
      }
    }
  }
  return out;
}

/** The sniHosts a server admits (each narrowed to the server host when the server's is narrower). */
function admittedSni(sniHosts: readonly string[], b: BoundServer): string[] {
  const out = new Set<string>();
  for (const sh of b.server.hosts.map(stripNamespace))
    for (const h of sniHosts.map((x) => x.toLowerCase())) {
      if (hostMatches(sh, h)) out.add(h);
      else if (hostMatches(h, sh)) out.add(sh);
    }
  return [...out];
}

/** The clusters of the first `tcp` rule of a bound VirtualService that applies to this server's port. */
function firstTcpRoute(scope: ProxyScope, p: GatewayPort, b: BoundServer): WeightedCluster[] | null {
  const ctx: L4Context = { scope, port: p.port, gateways: new Set([b.gateway]) };
  for (const vs of scope.virtualServices(ctx.gateways)) {
    if (servedHosts(vs, b).length === 0) continue;
    for (const r of vs.resource.spec.tcp ?? []) {
      if (r.match?.length && !r.match.some((m) => l4MatchApplies(ctx, m, vs.namespace))) continue;
      const clusters = l4Clusters(ctx, r.route, vs.namespace);
      if (clusters.length > 0) return clusters;
    }
  }
  return null;
}
