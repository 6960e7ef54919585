// The HTTP connection manager network filter every HTTP listener uses (RDS over ADS or an inline route config).
import type {
  AnyMessageOf,
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilter,
  envoy_extensions_filters_network_tcp_proxy_v3_TcpProxy as TcpProxy,
} from '../xds/envoy-types.js';
import { adsConfigSource, anyOf, duration, FILTERS, TYPES, wrap } from './envoy.js';
import { pathNormalizationFields } from './path-normalization.js';
import type { PathNormalization } from './mesh-config.js';

/** What varies between HTTP listeners. */
export interface HcmOptions {
  readonly statPrefix: string;
  /** Route config fetched over RDS by this name... */
  readonly rds?: string;
  /** ...or given inline (inbound listeners). */
  readonly routeConfig?: RouteConfiguration;
  /** Gateways: `server: istio-envoy`, use the remote address for x-forwarded-for. */
  readonly gateway?: boolean;
  /** Proxyless gRPC: only the filters gRPC implements (fault, router). */
  readonly grpc?: boolean;
  /** The HTTP_PROXY listener: accept absolute-form request targets. */
  readonly absoluteUrls?: boolean;
  /** MeshConfig pathNormalization (default BASE). */
  readonly pathNormalization?: PathNormalization;
  /** Authentication and authorization filters put first in the chain (src/pilot/authz). */
  readonly securityFilters?: readonly HttpFilter[];
  /** Gateways: X-Forwarded-For hops to trust (MeshConfig gatewayTopology.numTrustedProxies). */
  readonly xffNumTrustedHops?: number;
  /** Sidecar inbound: pass the caller's SPIFFE id to the app in x-forwarded-client-cert (as Istio does). */
  readonly inbound?: boolean;
}

/** The HTTP filter chain: CORS, fault, router (gRPC: fault, router), each with its empty v3 config. */
export function httpFilters(grpc: boolean): HttpFilter[] {
  const out: HttpFilter[] = [];
  if (!grpc) out.push({ name: FILTERS.CORS, typedConfig: anyOf(TYPES.CORS, {}) });
  out.push({ name: FILTERS.FAULT, typedConfig: anyOf(TYPES.FAULT, {}) });
  out.push({ name: FILTERS.ROUTER, typedConfig: anyOf(TYPES.ROUTER, {}) });
  return out;
}

/** The typed config (Any) of an HttpConnectionManager. */
export function buildHcmConfig(o: HcmOptions): AnyMessageOf {
  return anyOf(TYPES.HCM, buildHcm(o));
}

function buildHcm(o: HcmOptions): HttpConnectionManager {
  const hcm: HttpConnectionManager = { statPrefix: o.statPrefix };
  if (o.rds !== undefined) hcm.rds = { configSource: adsConfigSource(), routeConfigName: o.rds };
  else if (o.routeConfig) hcm.routeConfig = o.routeConfig;
  hcm.httpFilters = [...(o.securityFilters ?? []), ...httpFilters(o.grpc ?? false)];
  if (o.grpc) return hcm;
  // Istio turns Envoy's stream idle timeout off and normalizes paths (MeshConfig pathNormalization).
  hcm.streamIdleTimeout = duration(0);
  Object.assign(hcm, pathNormalizationFields(o.pathNormalization ?? 'BASE'));
  hcm.upgradeConfigs = [{ upgradeType: 'websocket' }];
  if (o.gateway) {
    hcm.serverName = 'istio-envoy';
    hcm.useRemoteAddress = wrap(true);
    if (o.xffNumTrustedHops) hcm.xffNumTrustedHops = o.xffNumTrustedHops;
  }
  if (o.absoluteUrls) hcm.httpProtocolOptions = { allowAbsoluteUrl: wrap(true) };
  if (o.inbound) {
    hcm.forwardClientCertDetails = 'APPEND_FORWARD';
    hcm.setCurrentClientCertDetails = { subject: wrap(true), dns: true, uri: true };
  }
  return hcm;
}

/** The HCM as a network filter. */
export function buildHcmFilter(o: HcmOptions): Filter {
  return { name: FILTERS.HCM, typedConfig: buildHcmConfig(o) };
}

/** A tcp_proxy network filter to one cluster or weighted clusters. */
export function buildTcpProxyFilter(
  statPrefix: string,
  clusters: readonly { name: string; weight: number }[],
): Filter {
  const cfg: TcpProxy = { statPrefix };
  if (clusters.length === 1) cfg.cluster = clusters[0].name;
  else cfg.weightedClusters = { clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })) };
  return { name: FILTERS.TCP_PROXY, typedConfig: anyOf(TYPES.TCP_PROXY, cfg) };
}
