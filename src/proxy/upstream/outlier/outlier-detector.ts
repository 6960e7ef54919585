// Envoy's outlier detector for one cluster: counts consecutive errors per host, ejects (within
// max_ejection_percent), returns hosts after base_ejection_time x ejections, logs and counts it all.
import type { Scope, Counter, Gauge } from '../../stats/stats-store.js';
import { logger } from '../../log.js';
import type { Host } from '../host.js';
import type { OutlierConfig } from './outlier-config.js';

const log = logger('outlier');

/** Outcomes the proxy itself observes (not HTTP status codes). Envoy's Outlier::Result. */
export const enum LocalResult {
  /** TCP connect failed, was refused, or a connection/stream reset before a response. */
  ConnectFailed = 0,
  /** Per-try or connect timeout. */
  Timeout = 1,
  /** A connection was established (resets the local-origin counter when split). */
  ConnectSuccess = 2,
}

/** Why a host was ejected; names follow Envoy's stats and event log. */
export type EjectionType =
  'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

/** Per-host detector state (Envoy's DetectorHostMonitor). */
export class HostMonitor {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocal = 0;
  /** Times ejected; multiplies the base ejection time. Decremented by sweeps while the host stays healthy. */
  numEjections = 0;
  /** Clock time of the last ejection (ms), or -1. */
  lastEjection = -1;
  /** Clock time of the last return to service (ms), or -1. */
  lastUnejection = -1;
}

/** A monotonic millisecond clock; tests inject a fake one. */
export type Clock = () => number;

/** Envoy's cluster.<name>.outlier_detection.* stats. */
class OutlierStats {
  readonly ejections_active: Gauge;
  readonly ejections_overflow: Counter;
  readonly ejections_enforced_total: Counter;
  readonly ejections_total: Counter;
  readonly enforced: Record<EjectionType, Counter>;
  readonly detected: Record<EjectionType, Counter>;
  readonly ejections_consecutive_5xx: Counter;

  constructor(s: Scope) {
    const p = 'outlier_detection.';
    this.ejections_active = s.gauge(p + 'ejections_active');
    this.ejections_overflow = s.counter(p + 'ejections_overflow');
    this.ejections_enforced_total = s.counter(p + 'ejections_enforced_total');
    this.ejections_total = s.counter(p + 'ejections_total');
    this.ejections_consecutive_5xx = s.counter(p + 'ejections_consecutive_5xx');
    const kinds: EjectionType[] = [
      'consecutive_5xx',
      'consecutive_gateway_failure',
      'consecutive_local_origin_failure',
    ];
    this.enforced = {} as Record<EjectionType, Counter>;
    this.detected = {} as Record<EjectionType, Counter>;
    for (const k of kinds) {
      this.enforced[k] = s.counter(`${p}ejections_enforced_${k}`);
      this.detected[k] = s.counter(`${p}ejections_detected_${k}`);
    }
  }
}

/**
 * Runs detection inline on each reported result and sweeps every `intervalMs` to return hosts.
 * `onChange` is called after every ejection or return so the cluster rebuilds its host set.
 */
export class OutlierDetector {
  readonly stats: OutlierStats;
  private hostCount = 0;
  private ejectedCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastSweep: number;
  private hosts: readonly Host[] = [];

  constructor(
    readonly config: OutlierConfig,
    scope: Scope,
    private readonly clusterName: string,
    private readonly onChange: () => void,
    private readonly now: Clock = () => performance.now(),
    /** Random source in [0, 1) for the enforcing percentages. */
    private readonly random: () => number = Math.random,
  ) {
    this.stats = new OutlierStats(scope);
    this.lastSweep = now();
  }

  /** Starts the sweep timer (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sweep(), this.config.intervalMs);
    this.timer.unref();
  }

  /** Stops the sweep timer. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The cluster's hosts changed: monitors for new hosts, gauges for removed ejected ones. */
  setHosts(hosts: readonly Host[]): void {
    let ejected = 0;
    for (const h of hosts) {
      if (h.outlier === null) h.outlier = new HostMonitor();
      if (h.outlierEjected) ejected++;
    }
    this.hosts = hosts;
    this.hostCount = hosts.length;
    this.ejectedCount = ejected;
    this.stats.ejections_active.set(ejected);
  }

  /** An HTTP response status from `host` (external origin). */
  putHttpStatus(host: Host, status: number): void {
    const m = host.outlier;
    if (m === null) return;
    if (status >= 500) {
      if (status >= 502 && status <= 504) {
        if (++m.consecutiveGateway === this.config.consecutiveGatewayFailure)
          this.detected(host, 'consecutive_gateway_failure');
      } else m.consecutiveGateway = 0;
      if (++m.consecutive5xx === this.config.consecutive5xx) this.detected(host, 'consecutive_5xx');
    } else {
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
    }
  }

  /** An outcome the proxy observed itself (connect failure, timeout, reset, connect success). */
  putLocalResult(host: Host, r: LocalResult): void {
    const m = host.outlier;
    if (m === null) return;
    if (this.config.splitExternalLocalOriginErrors) {
      if (r === LocalResult.ConnectSuccess) m.consecutiveLocal = 0;
      else if (++m.consecutiveLocal === this.config.consecutiveLocalOriginFailure)
        this.detected(host, 'consecutive_local_origin_failure');
      return;
    }
    // Not split: local failures count as the status Envoy would answer with (503 / 504).
    if (r === LocalResult.ConnectFailed) this.putHttpStatus(host, 503);
    else if (r === LocalResult.Timeout) this.putHttpStatus(host, 504);
  }

  private detected(host: Host, type: EjectionType): void {
    const m = host.outlier!;
    if (type === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') m.consecutiveGateway = 0;
    else m.consecutiveLocal = 0;
    this.stats.detected[type].inc();
    if (host.outlierEjected) return;
    const enforcing =
      type === 'consecutive_5xx'
        ? this.config.enforcingConsecutive5xx
        : type === 'consecutive_gateway_failure'
          ? this.config.enforcingConsecutiveGatewayFailure
          : this.config.enforcingConsecutiveLocalOriginFailure;
    if (enforcing <= 0 || (enforcing < 100 && this.random() * 100 >= enforcing)) return;
    this.eject(host, type);
  }

  private eject(host: Host, type: EjectionType): void {
    const pct = this.hostCount > 0 ? (100 * (this.ejectedCount + 1)) / this.hostCount : 100;
    if (pct > this.config.maxEjectionPercent) {
      this.stats.ejections_overflow.inc();
      log.debug(
        `cluster ${this.clusterName}: not ejecting ${host.key} (${type}): max_ejection_percent reached`,
      );
      return;
    }
    const m = host.outlier!;
    const now = this.now();
    m.numEjections++;
    m.lastEjection = now;
    host.outlierEjected = true;
    this.ejectedCount++;
    const st = this.stats;
    st.ejections_active.set(this.ejectedCount);
    st.ejections_enforced_total.inc();
    st.ejections_total.inc();
    st.enforced[type].inc();
    if (type === 'consecutive_5xx') st.ejections_consecutive_5xx.inc();
    log.info(
      `cluster ${this.clusterName}: ejected ${host.key} (${type}, ejection #${m.numEjections}, for ${this.ejectionMs(m)} ms)`,
    );
    this.onChange();
  }

  /** How long the current ejection of a host lasts: base x ejections, capped at max_ejection_time. */
  ejectionMs(m: HostMonitor): number {
    return Math.min(this.config.baseEjectionTimeMs * m.numEjections, this.config.maxEjectionTimeMs);
  }

  /** One interval sweep: returns hosts whose ejection ended; healthy hosts' ejection counts decay. */
  sweep(): void {
    const now = this.now();
    let changed = false;
    for (const h of this.hosts) {
      const m = h.outlier;
      if (m === null) continue;
      if (h.outlierEjected) {
        if (now - m.lastEjection >= this.ejectionMs(m)) {
          h.outlierEjected = false;
          m.lastUnejection = now;
          m.consecutive5xx = 0;
          m.consecutiveGateway = 0;
          m.consecutiveLocal = 0;
          this.ejectedCount--;
          changed = true;
          log.info(
            `cluster ${this.clusterName}: ${h.key} returned to service after ${Math.round(now - m.lastEjection)} ms`,
          );
        }
      } else if (m.numEjections > 0 && m.lastUnejection < this.lastSweep) {
        // Healthy for a whole interval since it came back: the next ejection gets shorter again.
        m.numEjections--;
      }
    }
    this.lastSweep = now;
    if (changed) {
      this.stats.ejections_active.set(this.ejectedCount);
      this.onChange();
    }
  }
}
