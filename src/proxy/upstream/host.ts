// One upstream endpoint of a cluster (Envoy's Host): address, weight, health and its per-host counters.
import type { HostMonitor } from './outlier/outlier-detector.js';
import type { ConnPool } from './pool/conn-pool.js';
import type { envoy_config_core_v3_Metadata as Metadata } from '../../xds/envoy-types.js';

/** Envoy's EDS health states (envoy.config.core.v3.HealthStatus). */
export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

/** Locality of an endpoint (region/zone/sub-zone). */
export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

/** An upstream endpoint. Identity (`key`) is `address:port`; health and counters change at runtime. */
export class Host {
  /** `address:port` as shown by admin /clusters. */
  readonly key: string;
  /** Per-host counters shown by admin /clusters. */
  cxActive = 0;
  cxTotal = 0;
  cxConnectFail = 0;
  rqActive = 0;
  rqTotal = 0;
  rqSuccess = 0;
  rqError = 0;
  rqTimeout = 0;
  /** Set by outlier detection; an ejected host is unhealthy. */
  outlierEjected = false;
  /** Outlier detection state, or null when the cluster has no outlier detection. */
  outlier: HostMonitor | null = null;
  /** Monotonic time (performance.now() ms) the host joined its cluster; slow start counts from here. */
  addedAt = performance.now();
  /** This host's connection pool, created on first use by its cluster. */
  pool: ConnPool | null = null;

  constructor(
    /** IP address (or DNS name for STRICT_DNS before resolution — never used to connect). */
    readonly address: string,
    /** TCP port. */
    readonly port: number,
    /** Endpoint hostname (EDS `hostname`, or the DNS name it was resolved from). */
    readonly hostname: string,
    /** Load balancing weight (1..). */
    readonly weight: number,
    /** EDS health status. */
    readonly healthStatus: HealthStatus,
    /** Priority level (0 is highest). */
    readonly priority: number,
    readonly locality: Locality,
    /** Endpoint metadata in canonical form (Struct per filter namespace), or null. */
    readonly metadata: Metadata | null,
    /** Weight of the host's locality (LocalityLbEndpoints.load_balancing_weight); 0 when unset. */
    readonly localityWeight: number = 0,
  ) {
    this.key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }

  /** Whether the host can take traffic: EDS says HEALTHY/UNKNOWN (or DEGRADED) and it is not ejected. */
  get healthy(): boolean {
    return (
      !this.outlierEjected &&
      (this.healthStatus === 'HEALTHY' || this.healthStatus === 'UNKNOWN' || this.healthStatus === 'DEGRADED')
    );
  }

  /** Envoy's admin health_flags string: `healthy` or `/failed_eds_health` etc. */
  healthFlags(): string {
    let f = '';
    if (this.healthStatus === 'UNHEALTHY' || this.healthStatus === 'TIMEOUT') f += '/failed_eds_health';
    if (this.healthStatus === 'DRAINING') f += '/pending_dynamic_removal';
    if (this.healthStatus === 'DEGRADED') f += '/degraded_eds_health';
    if (this.outlierEjected) f += '/failed_outlier_check';
    return f === '' ? 'healthy' : f;
  }
}
