// Outbound clusters `outbound|PORT|SUBSET|HOST` with the DestinationRule policy applied, and the
// special clusters (BlackHoleCluster, PassthroughCluster, inbound clusters).
import type {
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
} from '../api/kinds/networking/destination-rule.js';
import type { MeshService, ServicePort } from '../registry/model.js';
import { isHttp2 } from '../registry/protocol.js';
import { structFromJson } from '../xds/struct.js';
import type {
  envoy_config_cluster_v3_CircuitBreakers_Thresholds as Thresholds,
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_cluster_v3_Cluster_SlowStartConfig as SlowStartConfig,
  envoy_config_cluster_v3_OutlierDetection as OutlierDetectionMessage,
  envoy_config_core_v3_Http2ProtocolOptions as Http2ProtocolOptions,
  envoy_config_core_v3_HttpProtocolOptions as CommonHttpProtocolOptions,
  envoy_config_core_v3_TcpKeepalive as TcpKeepalive,
  envoy_extensions_upstreams_http_v3_HttpProtocolOptions as HttpProtocolOptions,
} from '../xds/envoy-types.js';
import { effectivePolicy, type EffectivePolicy } from './destination-policy.js';
import { applyClusterTls } from './cluster-tls.js';
import { buildMetadataExchangeFilter } from './metadata-exchange.js';
import {
  adsConfigSource,
  anyOf,
  BLACKHOLE_CLUSTER,
  duration,
  durationMs,
  inboundClusterName,
  MAX_UINT32,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  TYPES,
  wrap,
} from './envoy.js';
import type { ProxyScope } from './scoping.js';
import { buildLoadAssignment } from './endpoints.js';

/** Options of cluster generation. */
export interface ClusterOptions {
  /** Proxyless gRPC: ROUND_ROBIN/RING_HASH only, EDS for DNS services, no protocol options. */
  readonly grpc: boolean;
}

/** Every outbound cluster of a visible service: one per port, plus one per DestinationRule subset. */
export function buildOutboundClusters(scope: ProxyScope, opts: ClusterOptions): Cluster[] {
  const out: Cluster[] = [];
  for (const svc of scope.services) {
    const dr = scope.destinationRule(svc.hostname);
    const subsets = dr?.resource.spec.subsets ?? [];
    for (const port of svc.ports) {
      out.push(buildOutboundCluster(scope, svc, port, '', opts));
      for (const s of subsets) out.push(buildOutboundCluster(scope, svc, port, s.name, opts));
    }
  }
  return out;
}

/** One outbound cluster. */
export function buildOutboundCluster(
  scope: ProxyScope,
  svc: MeshService,
  port: ServicePort,
  subset: string,
  opts: ClusterOptions,
): Cluster {
  const name = outboundClusterName(port.port, subset, svc.hostname);
  const dr = scope.destinationRule(svc.hostname);
  const policy = effectivePolicy(dr, subset, port.port);
  const tcp = policy.connectionPool?.tcp;
  const cluster: Cluster = {
    name,
    connectTimeout: duration(durationMs(tcp?.connectTimeout) ?? scope.push.mesh.connectTimeoutMs),
  };
  const resolution = opts.grpc && svc.resolution !== 'NONE' ? 'STATIC' : svc.resolution;
  const passthroughLb = policy.loadBalancer?.simple === 'PASSTHROUGH';
  if (resolution === 'NONE' || passthroughLb) {
    cluster.type = 'ORIGINAL_DST';
    cluster.lbPolicy = 'CLUSTER_PROVIDED';
  } else if (resolution === 'STATIC') {
    cluster.type = 'EDS';
    cluster.edsClusterConfig = { edsConfig: adsConfigSource(), serviceName: name };
  } else {
    cluster.type = resolution === 'DNS' ? 'STRICT_DNS' : 'LOGICAL_DNS';
    cluster.dnsLookupFamily = 'V4_ONLY';
    cluster.respectDnsTtl = true;
    cluster.dnsRefreshRate = duration(60_000);
    cluster.loadAssignment = buildLoadAssignment(scope, name, { grpc: false });
  }
  if (cluster.lbPolicy === undefined) applyLoadBalancer(cluster, policy.loadBalancer, opts);
  cluster.circuitBreakers = { thresholds: [circuitBreakerThresholds(policy.connectionPool)] };
  if (policy.outlierDetection) applyOutlierDetection(cluster, policy.outlierDetection);
  if (!opts.grpc) {
    const protocolOptions = httpProtocolOptions(port, policy.connectionPool);
    const maxDuration = durationMs(tcp?.maxConnectionDuration);
    if (protocolOptions) {
      // Istio puts max_connection_duration in HttpProtocolOptions' common options.
      if (maxDuration)
        protocolOptions.commonHttpProtocolOptions.maxConnectionDuration = duration(maxDuration);
      cluster.typedExtensionProtocolOptions = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyOf(
          TYPES.HTTP_PROTOCOL_OPTIONS,
          protocolOptions,
        ),
      };
    } else if (maxDuration)
      cluster.commonHttpProtocolOptions = { maxConnectionDuration: duration(maxDuration) };
  }
  const ka = tcp?.tcpKeepalive;
  if (ka) {
    const keepalive: TcpKeepalive = {};
    if (ka.probes) keepalive.keepaliveProbes = wrap(ka.probes);
    const time = durationMs(ka.time);
    if (time) keepalive.keepaliveTime = wrap(Math.max(1, Math.round(time / 1000)));
    const interval = durationMs(ka.interval);
    if (interval) keepalive.keepaliveInterval = wrap(Math.max(1, Math.round(interval / 1000)));
    cluster.upstreamConnectionOptions = { tcpKeepalive: keepalive };
  }
  if (!opts.grpc) {
    const http2 = isHttp2(port.protocol) || policy.connectionPool?.http?.h2UpgradePolicy === 'UPGRADE';
    applyClusterTls(scope, cluster, svc, port, subset, policy.tls, http2);
    // Istio's TCPClusterMx, on every cluster: it acts only when TLS negotiated istio-peer-exchange.
    cluster.filters = [buildMetadataExchangeFilter()];
  }
  cluster.metadata = {
    filterMetadata: {
      istio: structFromJson({
        services: [{ host: svc.hostname, name: svc.name, namespace: svc.namespace }],
        ...(subset ? { subset } : {}),
        ...(dr
          ? {
              config: `/apis/networking.istio.io/v1/namespaces/${dr.namespace}/destination-rule/${dr.resource.metadata.name}`,
            }
          : {}),
      }),
    },
  };
  return cluster;
}

/** Istio's circuit-breaker defaults (every limit 2^32-1), overridden by connectionPool. */
function circuitBreakerThresholds(cp: ConnectionPoolSettings | undefined): Thresholds {
  return {
    maxConnections: wrap(cp?.tcp?.maxConnections ?? MAX_UINT32),
    maxPendingRequests: wrap(cp?.http?.http1MaxPendingRequests ?? MAX_UINT32),
    maxRequests: wrap(cp?.http?.http2MaxRequests ?? MAX_UINT32),
    maxRetries: wrap(cp?.http?.maxRetries ?? MAX_UINT32),
    trackRemaining: true,
  };
}

/** Load balancer: UNSPECIFIED → LEAST_REQUEST (Istio's default); consistent hash → RING_HASH/MAGLEV. */
function applyLoadBalancer(
  cluster: Cluster,
  lb: LoadBalancerSettings | undefined,
  opts: ClusterOptions,
): void {
  const ch = lb?.consistentHash;
  if (ch) {
    if (ch.maglev && !opts.grpc) {
      cluster.lbPolicy = 'MAGLEV';
      if (ch.maglev.tableSize) cluster.maglevLbConfig = { tableSize: wrap(ch.maglev.tableSize) };
    } else {
      cluster.lbPolicy = 'RING_HASH';
      const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
      if (min) cluster.ringHashLbConfig = { minimumRingSize: wrap(min) };
    }
  } else {
    const simple = lb?.simple ?? 'UNSPECIFIED';
    // ROUND_ROBIN is the enum's default value, so canonical form leaves lbPolicy out for it.
    if (opts.grpc || simple === 'ROUND_ROBIN') delete cluster.lbPolicy;
    else if (simple === 'RANDOM') cluster.lbPolicy = 'RANDOM';
    else cluster.lbPolicy = 'LEAST_REQUEST';
    const slowStart = opts.grpc ? null : slowStartConfig(lb);
    if (slowStart && cluster.lbPolicy === 'LEAST_REQUEST')
      cluster.leastRequestLbConfig = { slowStartConfig: slowStart };
    else if (slowStart && cluster.lbPolicy === undefined)
      cluster.roundRobinLbConfig = { slowStartConfig: slowStart };
  }
  const loc = lb?.localityLbSetting;
  if (loc && loc.enabled !== false && loc.distribute?.length)
    cluster.commonLbConfig = { localityWeightedLbConfig: {} };
}

/** warmup / warmupDurationSecs → Envoy's slow_start_config (round robin and least request only). */
function slowStartConfig(lb: LoadBalancerSettings | undefined): SlowStartConfig | null {
  const ms = durationMs(lb?.warmup?.duration ?? lb?.warmupDurationSecs);
  if (!ms) return null;
  const out: SlowStartConfig = { slowStartWindow: duration(ms) };
  const w = lb?.warmup;
  if (w?.aggression !== undefined)
    out.aggression = { defaultValue: w.aggression, runtimeKey: 'upstream.slow_start.aggression' };
  if (w?.minimumPercent !== undefined) out.minWeightPercent = { value: w.minimumPercent };
  return out;
}

/** Outlier detection with Istio's defaults for the fields left out. */
function applyOutlierDetection(cluster: Cluster, od: OutlierDetection): void {
  const out: OutlierDetectionMessage = {};
  const c5xx = od.consecutive5xxErrors ?? od.consecutiveErrors;
  if (c5xx !== undefined) {
    if (c5xx > 0) out.consecutive_5xx = wrap(c5xx);
    out.enforcingConsecutive_5xx = wrap(c5xx > 0 ? 100 : 0);
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    if (od.consecutiveGatewayErrors > 0) out.consecutiveGatewayFailure = wrap(od.consecutiveGatewayErrors);
    out.enforcingConsecutiveGatewayFailure = wrap(od.consecutiveGatewayErrors > 0 ? 100 : 0);
  }
  if (od.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (od.consecutiveLocalOriginFailures !== undefined) {
      out.consecutiveLocalOriginFailure = wrap(od.consecutiveLocalOriginFailures);
      out.enforcingConsecutiveLocalOriginFailure = wrap(100);
    }
  }
  out.interval = duration(durationMs(od.interval) ?? 10_000);
  out.baseEjectionTime = duration(durationMs(od.baseEjectionTime) ?? 30_000);
  out.maxEjectionPercent = wrap(od.maxEjectionPercent ?? 10);
  // Istio disables success-rate ejection.
  out.enforcingSuccessRate = wrap(0);
  cluster.outlierDetection = out;
  cluster.commonLbConfig = {
    ...(cluster.commonLbConfig ?? {}),
    healthyPanicThreshold: { value: od.minHealthPercent ?? 0 },
  };
}

/** HttpProtocolOptions (with its common options set): HTTP/2 for http2/grpc ports or h2UpgradePolicy UPGRADE, idle timeout (1 h), requests per connection. */
function httpProtocolOptions(
  port: ServicePort,
  cp: ConnectionPoolSettings | undefined,
): (HttpProtocolOptions & { commonHttpProtocolOptions: CommonHttpProtocolOptions }) | null {
  const http = cp?.http;
  const common: CommonHttpProtocolOptions = {
    idleTimeout: duration(durationMs(http?.idleTimeout) ?? 3_600_000),
  };
  if (http?.maxRequestsPerConnection) common.maxRequestsPerConnection = wrap(http.maxRequestsPerConnection);
  const out: HttpProtocolOptions & { commonHttpProtocolOptions: CommonHttpProtocolOptions } = {
    commonHttpProtocolOptions: common,
  };
  const h2: Http2ProtocolOptions = {};
  if (http?.maxConcurrentStreams) h2.maxConcurrentStreams = wrap(http.maxConcurrentStreams);
  if (http?.useClientProtocol || port.protocol === 'UNSUPPORTED')
    out.useDownstreamProtocolConfig = { httpProtocolOptions: {}, http2ProtocolOptions: h2 };
  else if (isHttp2(port.protocol) || http?.h2UpgradePolicy === 'UPGRADE')
    out.explicitHttpConfig = { http2ProtocolOptions: h2 };
  else if (port.protocol === 'HTTP' || port.protocol === 'GRPC-WEB')
    out.explicitHttpConfig = { httpProtocolOptions: {} };
  else return null;
  return out;
}

/** BlackHoleCluster: a STATIC cluster with no endpoints (REGISTRY_ONLY drops traffic here). */
export function buildBlackHoleCluster(): Cluster {
  return { name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout: duration(10_000) };
}

/** PassthroughCluster: forwards to the original destination (ALLOW_ANY). */
export function buildPassthroughCluster(): Cluster {
  return {
    name: PASSTHROUGH_CLUSTER,
    type: 'ORIGINAL_DST',
    lbPolicy: 'CLUSTER_PROVIDED',
    connectTimeout: duration(10_000),
    circuitBreakers: { thresholds: [circuitBreakerThresholds(undefined)] },
    filters: [buildMetadataExchangeFilter()],
  };
}

/** `inbound|PORT||`: a STATIC cluster whose one endpoint is the app (`address:port`). */
export function buildInboundCluster(
  port: number,
  appAddress: string,
  appPort: number,
  protocol: ServicePort['protocol'] = 'HTTP',
): Cluster {
  const name = inboundClusterName(port);
  const cluster: Cluster = {
    name,
    type: 'STATIC',
    connectTimeout: duration(10_000),
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: socketAddress(appAddress, appPort) } }] }],
    },
    circuitBreakers: { thresholds: [circuitBreakerThresholds(undefined)] },
  };
  // As Istio's inbound clusters: HTTP/2 to the app on http2/grpc ports (an HTTP/1 pool breaks gRPC).
  if (isHttp2(protocol)) {
    const opts = httpProtocolOptions({ name: '', port, protocol }, undefined);
    if (opts)
      cluster.typedExtensionProtocolOptions = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyOf(TYPES.HTTP_PROTOCOL_OPTIONS, opts),
      };
  }
  return cluster;
}

export type { EffectivePolicy };
