// Gateway servers in AUTO_PASSTHROUGH mode (Istio's east-west gateway): TLS from sidecars elsewhere is
// forwarded untouched to the destination's workloads, chosen by the client's SNI
// `outbound_.PORT_.SUBSET_.HOST` (the SNI every sidecar sends with Istio mutual TLS). For each service
// the server's hosts admit, per port and DestinationRule subset, an "SNI-DNAT" cluster named like that
// SNI (the outbound cluster's endpoints, no TLS of its own: the sidecar behind terminates the client's)
// and a filter chain matching the SNI that tcp-proxies to it, as istiod builds them.
import type { Server } from '../api/kinds/networking/gateway.js';
import { hostMatches } from '../registry/host.js';
import type { MeshService, ServicePort } from '../registry/model.js';
import { buildOutboundCluster } from './cluster.js';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_listener_v3_FilterChain as FilterChain,
} from '../xds/envoy-types.js';
import { anyOf, FILTERS, TYPES } from './envoy.js';
import { meshSni } from './istio-mutual.js';
import type { ProxyScope } from './scoping.js';

/** True for a TLS/HTTPS server in AUTO_PASSTHROUGH mode. */
export function isAutoPassthrough(s: Server): boolean {
  const p = s.port.protocol.toUpperCase();
  return (p === 'TLS' || p === 'HTTPS') && s.tls?.mode === 'AUTO_PASSTHROUGH';
}

/** One SNI-DNAT target: the SNI (= cluster name) and the service port (and subset) it reaches. */
interface SniTarget {
  readonly sni: string;
  readonly svc: MeshService;
  readonly port: ServicePort;
  readonly subset: string;
}

function admits(server: Server, hostname: string): boolean {
  return server.hosts.some((h) => {
    const i = h.indexOf('/');
    return hostMatches((i >= 0 ? h.slice(i + 1) : h).toLowerCase(), hostname);
  });
}

/** The SNI names an AUTO_PASSTHROUGH server serves: every port and subset of the services it admits. */
function targets(scope: ProxyScope, servers: readonly Server[]): SniTarget[] {
  const out: SniTarget[] = [];
  for (const svc of scope.services) {
    if (!servers.some((s) => admits(s, svc.hostname))) continue;
    const subsets = scope.destinationRule(svc.hostname)?.resource.spec.subsets ?? [];
    for (const port of svc.ports)
      for (const subset of ['', ...subsets.map((s) => s.name)])
        out.push({ sni: meshSni(port.port, subset, svc.hostname), svc, port, subset });
  }
  return out;
}

/** The filter chains of one AUTO_PASSTHROUGH server: SNI → tcp_proxy to the SNI-DNAT cluster. */
export function buildSniDnatChains(scope: ProxyScope, server: Server): FilterChain[] {
  return targets(scope, [server]).map((t) => ({
    filterChainMatch: { serverNames: [t.sni] },
    filters: [
      {
        name: FILTERS.TCP_PROXY,
        typedConfig: anyOf(TYPES.TCP_PROXY, { statPrefix: t.sni, cluster: t.sni }),
      },
    ],
  }));
}

/** The SNI-DNAT clusters a gateway's AUTO_PASSTHROUGH servers route to (none without such servers). */
export function buildSniDnatClusters(scope: ProxyScope, servers: readonly Server[]): Cluster[] {
  if (servers.length === 0) return [];
  const out: Cluster[] = [];
  for (const t of targets(scope, servers)) {
    const c = buildOutboundCluster(scope, t.svc, t.port, t.subset, { grpc: false });
    // The client's TLS goes through untouched: no TLS origination, no HTTP options (tcp_proxy only).
    delete c.transportSocket;
    delete c.transportSocketMatches;
    delete c.typedExtensionProtocolOptions;
    delete c.commonHttpProtocolOptions;
    c.name = t.sni;
    if (c.edsClusterConfig) c.edsClusterConfig.serviceName = t.sni;
    if (c.loadAssignment) c.loadAssignment.clusterName = t.sni;
    out.push(c);
  }
  return out;
}
