// Sidecar inbound: the ports the proxy's workload serves, as `virtualInbound` filter chains (REDIRECT
// mode) or listeners bound at podIP:<port> (local mode), each routed to `inbound|PORT||`.
import { isHttpPort } from './route-config.js';
import { buildHcmFilter, buildTcpProxyFilter } from './http-connection-manager.js';
import { buildInboundCluster, buildPassthroughCluster } from './cluster.js';
import {
  FILTERS,
  duration,
  inboundClusterName,
  INBOUND_PASSTHROUGH_CLUSTER,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  TYPES,
  wrap,
  anyOf,
} from './envoy.js';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_listener_v3_FilterChain as FilterChain,
  envoy_config_listener_v3_Listener as Listener,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../xds/envoy-types.js';
import type { Protocol } from '../registry/model.js';
import { parseProtocol } from '../registry/protocol.js';
import type { ProxyScope } from './scoping.js';
import { buildSecurityFilters, type SecurityFilters } from './authz/security-filters.js';
import { inboundChains, inboundMtlsMode, tlsInspector } from './inbound-mtls.js';
import { buildMetadataExchangeFilter } from './metadata-exchange.js';

/** Istio's inbound capture port. */
export const INBOUND_PORT = 15006;

/** One port the workload serves. */
export interface InboundEndpoint {
  /** The port the sidecar accepts on (the container/target port). */
  readonly port: number;
  readonly protocol: Protocol;
  /** Where the app listens. */
  readonly appAddress: string;
  readonly appPort: number;
}

/**
 * The workload's inbound ports: Sidecar `ingress` entries when given (defaultEndpoint = the app), else
 * the target ports of the services that select it (else its container ports). The app address is MIZZEN_APP_HOST, else 127.0.0.1.
 */
export function inboundEndpoints(scope: ProxyScope): InboundEndpoint[] {
  const proxy = scope.proxy;
  const appHost = proxy.appHost || '127.0.0.1';
  const ingress = scope.sidecar?.spec?.ingress;
  const byPort = new Map<number, InboundEndpoint>();
  if (ingress && ingress.length > 0) {
    for (const l of ingress) {
      const port = l.port.number;
      if (port === undefined) continue;
      let appAddress = appHost;
      let appPort = port;
      if (l.defaultEndpoint && !l.defaultEndpoint.startsWith('unix://')) {
        const i = l.defaultEndpoint.lastIndexOf(':');
        const host = l.defaultEndpoint.slice(0, i);
        appPort = Number(l.defaultEndpoint.slice(i + 1)) || appPort;
        if (host && host !== '127.0.0.1' && host !== '0.0.0.0' && host !== 'localhost') appAddress = host;
      }
      const protocol = parseProtocol(l.port.protocol);
      byPort.set(port, { port, protocol, appAddress, appPort });
    }
  } else {
    const ports = scope.push.registry.inboundPorts(proxy.ip, proxy.namespace, scope.workload?.name);
    // A workload no service selects still serves its declared container ports (protocol sniffed).
    if (ports.length === 0)
      for (const c of scope.workload?.containerPorts ?? [])
        if (!byPort.has(c.port))
          byPort.set(c.port, { port: c.port, protocol: 'UNSUPPORTED', appAddress: appHost, appPort: c.port });
    for (const p of ports) {
      if (byPort.has(p.targetPort)) continue;
      byPort.set(p.targetPort, {
        port: p.targetPort,
        protocol: p.servicePort.protocol,
        appAddress: appHost,
        appPort: p.targetPort,
      });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

/** The inline route config of an inbound HTTP port: everything to `inbound|PORT||`, no timeout. */
function inboundRouteConfig(port: number): RouteConfiguration {
  const cluster = inboundClusterName(port);
  return {
    name: cluster,
    virtualHosts: [
      {
        name: `inbound|http|${port}`,
        domains: ['*'],
        routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: duration(0) } }],
      },
    ],
    validateClusters: wrap(false),
  };
}

/** The network filters for one inbound port. */
function inboundFilters(e: InboundEndpoint, scope: ProxyScope, sec: SecurityFilters): Filter[] {
  const cluster = inboundClusterName(e.port);
  if (isHttpPort(e.protocol))
    return [
      buildHcmFilter({
        statPrefix: `inbound_0.0.0.0_${e.port}`,
        routeConfig: inboundRouteConfig(e.port),
        pathNormalization: scope.push.mesh.pathNormalization,
        securityFilters: sec.http,
        inbound: true,
      }),
    ];
  // Istio: the exchange goes first, so the authorization filters could read its result.
  return [
    buildMetadataExchangeFilter(),
    ...sec.tcp,
    buildTcpProxyFilter(cluster, [{ name: cluster, weight: 1 }]),
  ];
}

/** REDIRECT mode: `virtualInbound` on 0.0.0.0:15006, one filter chain per port, passthrough for the rest. */
export function buildVirtualInboundListener(scope: ProxyScope): Listener {
  const sec = buildSecurityFilters(scope);
  const endpoints = inboundEndpoints(scope);
  const declared = new Set(endpoints.map((e) => e.port));
  const chains: FilterChain[] = endpoints.flatMap((e) =>
    inboundChains(
      inboundMtlsMode(scope, e.port),
      { name: inboundClusterName(e.port), filterChainMatch: { destinationPort: wrap(e.port) } },
      () => inboundFilters(e, scope, sec),
    ),
  );
  chains.push(...inboundPassthroughChains(scope, sec, declared));
  return {
    name: 'virtualInbound',
    address: socketAddress('0.0.0.0', 15006),
    trafficDirection: 'INBOUND',
    listenerFilters: [
      { name: FILTERS.ORIGINAL_DST, typedConfig: anyOf(TYPES.ORIGINAL_DST, {}) },
      tlsInspector(),
    ],
    filterChains: chains,
  };
}

/**
 * The chains for ports no service declares (Istio's inbound passthrough): PeerAuthentication applies
 * here too, as istiod's ForPassthrough does: the workload's mode without a port for every port, plus
 * a chain per portLevelMtls port that no service declares. STRICT refuses plaintext on them.
 */
function inboundPassthroughChains(
  scope: ProxyScope,
  sec: SecurityFilters,
  declared: ReadonlySet<number>,
): FilterChain[] {
  const filters = (): Filter[] => [
    buildMetadataExchangeFilter(),
    ...sec.tcp,
    buildTcpProxyFilter(INBOUND_PASSTHROUGH_CLUSTER, [{ name: PASSTHROUGH_CLUSTER, weight: 1 }]),
  ];
  const p = scope.proxy;
  const out: FilterChain[] = [];
  for (const port of scope.push.peerAuthn.portLevelPorts(p.namespace, p.labels)) {
    if (declared.has(port)) continue;
    out.push(
      ...inboundChains(
        inboundMtlsMode(scope, port),
        { name: `${INBOUND_PASSTHROUGH_CLUSTER}-${port}`, filterChainMatch: { destinationPort: wrap(port) } },
        filters,
      ),
    );
  }
  // Port 0: no portLevelMtls entry applies, so this is the workload's mode for any other port.
  out.push(...inboundChains(inboundMtlsMode(scope, 0), { name: 'virtualInbound-catchall-tcp' }, filters));
  return out;
}

/** Local mode: one listener per inbound port bound at podIP:<port>. */
export function buildLocalInboundListeners(scope: ProxyScope): Listener[] {
  const ip = scope.proxy.ip || '127.0.0.1';
  const sec = buildSecurityFilters(scope);
  return inboundEndpoints(scope).map((e) => {
    const mode = inboundMtlsMode(scope, e.port);
    const l: Listener = {
      name: `${ip}_${e.port}`,
      address: socketAddress(ip, e.port),
      trafficDirection: 'INBOUND',
      filterChains: inboundChains(mode, {}, () => inboundFilters(e, scope, sec)),
    };
    if (mode !== 'DISABLE') l.listenerFilters = [tlsInspector()];
    return l;
  });
}

/** `inbound|PORT||` clusters for the workload's ports. */
export function buildInboundClusters(scope: ProxyScope): Cluster[] {
  return inboundEndpoints(scope).map((e) => buildInboundCluster(e.port, e.appAddress, e.appPort, e.protocol));
}

export { buildPassthroughCluster };
