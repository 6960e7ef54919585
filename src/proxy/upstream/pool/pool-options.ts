// Connection-pool settings of a cluster compiled once: what Istio's connectionPool (tcp + http) becomes
// in Envoy (upstream_connection_options, HttpProtocolOptions, http2_protocol_options).
import { durationMs, u32 } from '../../util/values.js';
import type {
  envoy_config_cluster_v3_Cluster as ClusterConfig,
  envoy_config_core_v3_KeepaliveSettings as KeepaliveSettings,
  envoy_extensions_upstreams_http_v3_HttpProtocolOptions as HttpProtocolOptions,
} from '../../../xds/envoy-types.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Per-connection limits and timers. 0 means "no limit" everywhere. */
export interface PoolOptions {
  /** Requests (HTTP/1.1) or streams (HTTP/2) per connection before it is closed (max_requests_per_connection). */
  readonly maxRequestsPerConnection: number;
  /** Close a connection idle this long, in ms (common_http_protocol_options.idle_timeout; Envoy default 1 h). */
  readonly idleTimeoutMs: number;
  /** Close a connection this long after it opened, once its requests finish, in ms (max_connection_duration). */
  readonly maxConnectionDurationMs: number;
  /** Concurrent HTTP/2 streams per connection before another connection is opened (default 2^31-1). */
  readonly maxConcurrentStreams: number;
  /** TCP keepalive: idle ms before the first probe, or -1 when keepalive is off. */
  readonly keepaliveTimeMs: number;
  /**
   * HTTP/2 keepalive (http2_protocol_options.connection_keepalive): a PING every `intervalMs` plus up to
   * `jitterPercent` % of it; a session whose PING is not answered within `timeoutMs` is destroyed.
   * Null when not configured.
   */
  readonly h2Keepalive: { intervalMs: number; timeoutMs: number; jitterPercent: number } | null;
}

/** Defaults when a cluster says nothing: Envoy's 1 h idle timeout, no other limits, keepalive off. */
export const DEFAULT_POOL_OPTIONS: PoolOptions = {
  maxRequestsPerConnection: 0,
  idleTimeoutMs: 3_600_000,
  maxConnectionDurationMs: 0,
  maxConcurrentStreams: 2_147_483_647,
  keepaliveTimeMs: -1,
  h2Keepalive: null,
};

/** Reads a canonical Cluster's pool settings (typed HttpProtocolOptions first, then the legacy fields). */
export function poolOptions(cluster: ClusterConfig): PoolOptions {
  const typed = cluster.typedExtensionProtocolOptions?.[HTTP_PROTOCOL_OPTIONS] as
    HttpProtocolOptions | undefined;
  const common = typed?.commonHttpProtocolOptions ?? cluster.commonHttpProtocolOptions ?? {};
  const legacyCommon = cluster.commonHttpProtocolOptions ?? {};
  const h2 =
    typed?.explicitHttpConfig?.http2ProtocolOptions ??
    typed?.useDownstreamProtocolConfig?.http2ProtocolOptions ??
    typed?.autoConfig?.http2ProtocolOptions ??
    cluster.http2ProtocolOptions ??
    {};
  const ka = cluster.upstreamConnectionOptions?.tcpKeepalive;
  return {
    maxRequestsPerConnection: u32(
      common.maxRequestsPerConnection ??
        legacyCommon.maxRequestsPerConnection ??
        cluster.maxRequestsPerConnection,
      0,
    ),
    idleTimeoutMs: durationMs(common.idleTimeout ?? legacyCommon.idleTimeout, 3_600_000),
    maxConnectionDurationMs: durationMs(
      common.maxConnectionDuration ?? legacyCommon.maxConnectionDuration,
      0,
    ),
    maxConcurrentStreams: u32(h2.maxConcurrentStreams, 2_147_483_647) || 2_147_483_647,
    // Envoy's default keepalive_time when the message is present but the field is not: the OS default (2 h).
    keepaliveTimeMs: ka ? u32(ka.keepaliveTime, 7200) * 1000 : -1,
    h2Keepalive: h2Keepalive(h2.connectionKeepalive),
  };
}

/** Compiles connection_keepalive. Throws naming the field (Envoy requires the timeout). */
function h2Keepalive(ka: KeepaliveSettings | undefined): PoolOptions['h2Keepalive'] {
  if (!ka) return null;
  const where = 'http2ProtocolOptions.connectionKeepalive';
  const timeoutMs = durationMs(ka.timeout, 0);
  if (timeoutMs <= 0) throw new Error(`${where}.timeout is required`);
  // Envoy's "ping an idle connection before reusing it": not done, so not accepted.
  if (ka.connectionIdleInterval !== undefined)
    throw new Error(`${where}.connectionIdleInterval is not supported by this proxy`);
  const intervalMs = durationMs(ka.interval, 0);
  if (intervalMs <= 0) return null;
  const j = ka.intervalJitter?.value;
  return { intervalMs, timeoutMs, jitterPercent: typeof j === 'number' && j >= 0 ? j : 15 };
}
