// VirtualService `tcp` and `tls` rules → tcp_proxy filters: which L4 matches apply to a proxy, the
// (weighted) destination clusters, and the idle timeout from the destination's DestinationRule.
import type {
  L4MatchAttributes,
  RouteDestination,
  TLSMatchAttributes,
} from '../api/kinds/networking/virtual-service.js';
import { selects } from '../registry/labels.js';
import { effectivePolicy } from './destination-policy.js';
import { destinationCluster, type ActionContext } from './route-action.js';
import type {
  envoy_config_core_v3_CidrRange as CidrRange,
  envoy_config_listener_v3_Filter as Filter,
  envoy_extensions_filters_network_tcp_proxy_v3_TcpProxy as TcpProxy,
} from '../xds/envoy-types.js';
import { anyOf, durationMs, duration, FILTERS, parseOutboundClusterName, TYPES } from './envoy.js';
import type { ProxyScope } from './scoping.js';
import { resolveGatewayRef } from './push-context.js';

/** A cluster with its share of the connections. */
export interface WeightedCluster {
  readonly name: string;
  readonly weight: number;
}

/** Where an L4 rule is being applied: the port, the gateways the VirtualService is bound to here. */
export interface L4Context {
  readonly scope: ProxyScope;
  /** Listener (service or gateway server) port. */
  readonly port: number;
  /** `mesh` for sidecars, else the `ns/name` of the gateway(s) of this server. */
  readonly gateways: ReadonlySet<string>;
}

/**
 * True when an L4 (tcp) or TLS match entry applies: its port (when set) is this port, its gateways
 * (when set, they replace the VirtualService's) include one of ours, and, on sidecars, the proxy carries
 * its sourceLabels and lives in its sourceNamespace. destinationSubnets and sniHosts are left to the
 * filter chain match.
 */
export function l4MatchApplies(
  ctx: L4Context,
  m: L4MatchAttributes | TLSMatchAttributes,
  vsNamespace: string,
): boolean {
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (m.gateways?.length && !m.gateways.some((g) => ctx.gateways.has(resolveGatewayRef(g, vsNamespace))))
    return false;
  const proxy = ctx.scope.proxy;
  if (m.sourceLabels && !selects(m.sourceLabels, proxy.labels)) return false;
  if (m.sourceNamespace && m.sourceNamespace !== proxy.namespace) return false;
  return true;
}

/** The clusters of a rule's destinations; zero-weight destinations are dropped when there are several. */
export function l4Clusters(
  ctx: L4Context,
  route: readonly RouteDestination[] | undefined,
  vsNamespace: string,
): WeightedCluster[] {
  const list = route ?? [];
  const actx: ActionContext = { scope: ctx.scope, port: ctx.port, grpc: false };
  const out: WeightedCluster[] = [];
  for (const d of list) {
    if (list.length > 1 && (d.weight ?? 0) <= 0) continue;
    const name = destinationCluster(actx, d.destination, vsNamespace);
    if (name) out.push({ name, weight: d.weight ?? 100 });
  }
  return out;
}

/**
 * A tcp_proxy to one cluster or weighted clusters. The stat prefix is the (first) cluster's name, as
 * Istio does; the idle timeout is the destination's `connectionPool.tcp.idleTimeout` (Istio's default 1 h).
 */
export function buildL4Proxy(scope: ProxyScope, clusters: readonly WeightedCluster[]): Filter {
  const cfg: TcpProxy = { statPrefix: clusters[0].name };
  if (clusters.length === 1) cfg.cluster = clusters[0].name;
  else cfg.weightedClusters = { clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })) };
  const tcp = tcpSettings(scope, clusters[0].name);
  const idle = durationMs(tcp?.idleTimeout);
  if (idle !== undefined) cfg.idleTimeout = duration(idle);
  // As istiod: the destination's tcp.maxConnectionDuration caps each proxied connection.
  const max = durationMs(tcp?.maxConnectionDuration);
  if (max !== undefined && max > 0) cfg.maxDownstreamConnectionDuration = duration(max);
  return { name: FILTERS.TCP_PROXY, typedConfig: anyOf(TYPES.TCP_PROXY, cfg) };
}

/** The destination's effective `connectionPool.tcp` (the first cluster's), if any. */
function tcpSettings(scope: ProxyScope, cluster: string) {
  const c = parseOutboundClusterName(cluster);
  if (!c) return undefined;
  const dr = scope.destinationRule(c.host);
  return effectivePolicy(dr, c.subset, c.port).connectionPool?.tcp;
}

/** `destinationSubnets` as Envoy CidrRanges (a bare address is a /32 or /128). */
export function prefixRanges(subnets: readonly string[] | undefined): CidrRange[] {
  return (subnets ?? []).map((s) => {
    const [addr, len] = s.split('/');
    const max = addr.includes(':') ? 128 : 32;
    const n = len === undefined ? max : Number(len);
    // A zero UInt32Value is `{}` in canonical form.
    return { addressPrefix: addr, prefixLen: n === 0 ? {} : { value: n } };
  });
}
