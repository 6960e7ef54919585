// A cluster's outlier_detection compiled once, with Envoy's defaults for every field left out.
import { boolValue, durationMs, u32 } from '../../util/values.js';
import type { envoy_config_cluster_v3_OutlierDetection as OutlierDetection } from '../../../xds/envoy-types.js';

/** Envoy's OutlierDetection (consecutive-error detectors; success-rate/failure-percentage are not run). */
export interface OutlierConfig {
  /** 5xx (and, unless split, local-origin failures) in a row before ejection. Default 5. */
  readonly consecutive5xx: number;
  /** Percent chance a consecutive-5xx detection ejects. Default 100. */
  readonly enforcingConsecutive5xx: number;
  /** 502/503/504 (and unless split, connect failures/timeouts) in a row. Default 5. */
  readonly consecutiveGatewayFailure: number;
  /** Percent chance a gateway-failure detection ejects. Envoy's default 0 (Istio sets 100 when configured). */
  readonly enforcingConsecutiveGatewayFailure: number;
  /** Tell connect failures, timeouts and resets (local origin) apart from upstream responses. Default false. */
  readonly splitExternalLocalOriginErrors: boolean;
  /** Local-origin failures in a row before ejection (only when split). Default 5. */
  readonly consecutiveLocalOriginFailure: number;
  /** Percent chance a local-origin detection ejects. Default 100. */
  readonly enforcingConsecutiveLocalOriginFailure: number;
  /** Sweep interval in ms (hosts return to service on sweeps). Default 10 000. */
  readonly intervalMs: number;
  /** Ejection time in ms, multiplied by the host's ejection count. Default 30 000. */
  readonly baseEjectionTimeMs: number;
  /** Cap on one ejection's duration in ms. Default 300 000 (never below the base time). */
  readonly maxEjectionTimeMs: number;
  /** At most this percent of the cluster's hosts ejected at once. Default 10. */
  readonly maxEjectionPercent: number;
}

/** Compiles `cluster.outlierDetection`, or null when the cluster has none (no detector runs). */
export function outlierConfig(od: OutlierDetection | undefined): OutlierConfig | null {
  if (od === undefined || od === null) return null;
  const base = durationMs(od.baseEjectionTime, 30_000);
  return {
    consecutive5xx: u32(od.consecutive_5xx, 5),
    enforcingConsecutive5xx: u32(od.enforcingConsecutive_5xx, 100),
    consecutiveGatewayFailure: u32(od.consecutiveGatewayFailure, 5),
    enforcingConsecutiveGatewayFailure: u32(od.enforcingConsecutiveGatewayFailure, 0),
    splitExternalLocalOriginErrors: boolValue(od.splitExternalLocalOriginErrors, false),
    consecutiveLocalOriginFailure: u32(od.consecutiveLocalOriginFailure, 5),
    enforcingConsecutiveLocalOriginFailure: u32(od.enforcingConsecutiveLocalOriginFailure, 100),
    intervalMs: Math.max(1, durationMs(od.interval, 10_000)),
    baseEjectionTimeMs: base,
    maxEjectionTimeMs: Math.max(base, durationMs(od.maxEjectionTime, 300_000)),
    maxEjectionPercent: Math.min(100, u32(od.maxEjectionPercent, 10)),
  };
}
