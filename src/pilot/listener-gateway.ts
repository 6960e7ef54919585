// Gateways (router~ proxies): the Gateway servers selected by the proxy's labels become listeners per
// port (HTTP → RDS `http.PORT`, HTTPS → TLS-terminating filter chains, TCP/TLS passthrough →
// tcp_proxy), and bound VirtualServices become the virtual hosts of their route configs.
import { hostMatches } from '../registry/host.js';
import { selects } from '../registry/labels.js';
import { buildVirtualServiceRoutes, type RouteContext } from './route-http.js';
import { buildHcmFilter, buildTcpProxyFilter } from './http-connection-manager.js';
import { destinationCluster } from './route-action.js';
import { adsConfigSource, FILTERS, socketAddress, TYPES, wrap, type Envoy } from './envoy.js';
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

function isTerminatedHttps(s: Server): boolean {
  const p = s.port.protocol.toUpperCase();
  return p === 'HTTPS' && s.tls?.mode !== 'PASSTHROUGH' && s.tls?.mode !== 'AUTO_PASSTHROUGH';
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
export function buildGatewayListeners(scope: ProxyScope): Envoy[] {
  const out: Envoy[] = [];
  for (const p of gatewayPorts(scope)) {
    const name = `0.0.0.0_${p.boundPort}`;
    const chains: Envoy[] = [];
    let tls = false;
    for (const b of p.servers) {
      if (isTerminatedHttps(b.server)) {
        tls = true;
        const match: Envoy = {};
        const sni = b.server.hosts.map(stripNamespace).filter((h) => h !== '*');
        if (sni.length > 0) match.serverNames = sni;
        chains.push({
          filterChainMatch: match,
          transportSocket: downstreamTls(b.server),
          filters: [
            buildHcmFilter({ statPrefix: `outbound_${name}`, rds: httpsRouteName(p, b), gateway: true }),
          ],
        });
      } else if (!isHttpServer(b.server)) {
        const tcp = tcpChains(scope, p, b);
        if (tcp.some((c) => c.filterChainMatch)) tls = true;
        chains.push(...tcp);
      }
    }
    if (p.servers.some((b) => isHttpServer(b.server)))
      chains.push({
        filters: [buildHcmFilter({ statPrefix: `outbound_${name}`, rds: httpRouteName(p), gateway: true })],
      });
    if (chains.length === 0) continue;
    const listener: Envoy = {
      name,
      address: socketAddress(p.bindAddress, p.boundPort),
      trafficDirection: 'OUTBOUND',
      filterChains: chains,
    };
    if (tls)
      listener.listenerFilters = [
        { name: FILTERS.TLS_INSPECTOR, typedConfig: { '@type': TYPES.TLS_INSPECTOR } },
      ];
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
export function buildGatewayRouteConfig(scope: ProxyScope, routeName: string): Envoy | null {
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
): Envoy {
  const gateways = new Set(servers.map((b) => b.gateway));
  const ctx: RouteContext = { scope, port: p.port, grpc: false, gateways };
  const hosts = new Map<string, Envoy[]>();
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
  const virtualHosts: Envoy[] = [];
  for (const [h, routes] of hosts) {
    const domains = h === '*' ? ['*'] : [...new Set([h, `${h}:${p.port}`, `${h}:${p.boundPort}`])];
    const vh: Envoy = { name: `${h}:${p.port}`, domains, routes, includeRequestAttemptCount: true };
    if (redirect.has(h)) vh.requireTls = 'ALL';
    virtualHosts.push(vh);
  }
  if (virtualHosts.length === 0) virtualHosts.push({ name: `blackhole:${p.port}`, domains: ['*'] });
  return { name, virtualHosts, validateClusters: wrap(false) };
}

/** The DownstreamTlsContext transport socket of an HTTPS server (files or SDS credentialName). */
function downstreamTls(server: Server): Envoy {
  const tls = server.tls ?? {};
  const common: Envoy = { alpnProtocols: ['h2', 'http/1.1'] };
  if (tls.credentialName) {
    common.tlsCertificateSdsSecretConfigs = [
      { name: `kubernetes://${tls.credentialName}`, sdsConfig: adsConfigSource() },
    ];
    if (tls.mode === 'MUTUAL')
      common.validationContextSdsSecretConfig = {
        name: `kubernetes://${tls.credentialName}-cacert`,
        sdsConfig: adsConfigSource(),
      };
  } else {
    if (tls.serverCertificate && tls.privateKey)
      common.tlsCertificates = [
        { certificateChain: { filename: tls.serverCertificate }, privateKey: { filename: tls.privateKey } },
      ];
    if (tls.mode === 'MUTUAL' && tls.caCertificates)
      common.validationContext = { trustedCa: { filename: tls.caCertificates } };
  }
  const ctx: Envoy = { '@type': TYPES.DOWNSTREAM_TLS, commonTlsContext: common };
  if (tls.mode === 'MUTUAL') ctx.requireClientCertificate = wrap(true);
  return { name: 'envoy.transport_sockets.tls', typedConfig: ctx };
}

/** TCP and TLS-passthrough servers: tcp_proxy chains from the bound VirtualServices' tcp/tls routes. */
function tcpChains(scope: ProxyScope, p: GatewayPort, b: BoundServer): Envoy[] {
  const out: Envoy[] = [];
  const gateways = new Set([b.gateway]);
  const ctx = { scope, port: p.port, grpc: false };
  for (const vs of scope.virtualServices(gateways)) {
    if (servedHosts(vs, b).length === 0) continue;
    for (const r of vs.resource.spec.tls ?? []) {
      const m = r.match.find(
        (x) =>
          (x.port === undefined || x.port === p.port) &&
          (!x.gateways ||
            x.gateways.length === 0 ||
            x.gateways.some((g) => gateways.has(g.includes('/') ? g : `${vs.namespace}/${g}`))),
      );
      if (!m) continue;
      const clusters = (r.route ?? []).flatMap((d) => {
        const name = destinationCluster(ctx, d.destination, vs.namespace);
        return name ? [{ name, weight: d.weight ?? 1 }] : [];
      });
      if (clusters.length > 0)
        out.push({
          filterChainMatch: { serverNames: m.sniHosts },
          filters: [buildTcpProxyFilter(clusters[0].name, clusters)],
        });
    }
    for (const r of vs.resource.spec.tcp ?? []) {
      if (r.match?.length && !r.match.some((x) => x.port === undefined || x.port === p.port)) continue;
      const clusters = (r.route ?? []).flatMap((d) => {
        const name = destinationCluster(ctx, d.destination, vs.namespace);
        return name ? [{ name, weight: d.weight ?? 1 }] : [];
      });
      if (clusters.length > 0) {
        out.push({ filters: [buildTcpProxyFilter(clusters[0].name, clusters)] });
        return out;
      }
    }
  }
  return out;
}
