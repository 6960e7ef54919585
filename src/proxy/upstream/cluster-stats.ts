// Envoy's cluster.<name>.* statistics, created once per cluster and updated by reference.
import {
  ResponseCodeStats,
  type Counter,
  type Gauge,
  type Histogram,
  type StatsStore,
} from '../stats/stats-store.js';

/** The counters/gauges Envoy keeps per cluster (names as in Envoy's cluster statistics docs). */
export class ClusterStats {
  readonly upstream_rq_total: Counter;
  readonly upstream_rq_completed: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_pending_total: Counter;
  readonly upstream_rq_pending_active: Gauge;
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_per_try_timeout: Counter;
  readonly upstream_rq_retry: Counter;
  readonly upstream_rq_retry_success: Counter;
  readonly upstream_rq_retry_overflow: Counter;
  readonly upstream_rq_retry_limit_exceeded: Counter;
  readonly upstream_rq_rx_reset: Counter;
  readonly upstream_rq_tx_reset: Counter;
  readonly upstream_rq_cancelled: Counter;
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_http1_total: Counter;
  readonly upstream_cx_http2_total: Counter;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_cx_overflow: Counter;
  readonly upstream_cx_none_healthy: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly membership_healthy: Gauge;
  readonly membership_total: Gauge;
  readonly membership_change: Counter;
  readonly lb_healthy_panic: Counter;
  readonly upstream_rq_time: Histogram;
  /** upstream_rq_<code> and upstream_rq_<class>xx. */
  readonly codes: ResponseCodeStats;
  readonly scope;

  constructor(store: StatsStore, clusterName: string) {
    const s = store.scope(`cluster.${clusterName}.`, 'cluster.', [['envoy_cluster_name', clusterName]]);
    this.scope = s;
    this.upstream_rq_total = s.counter('upstream_rq_total');
    this.upstream_rq_completed = s.counter('upstream_rq_completed');
    this.upstream_rq_active = s.gauge('upstream_rq_active');
    this.upstream_rq_pending_total = s.counter('upstream_rq_pending_total');
    this.upstream_rq_pending_active = s.gauge('upstream_rq_pending_active');
    this.upstream_rq_pending_overflow = s.counter('upstream_rq_pending_overflow');
    this.upstream_rq_timeout = s.counter('upstream_rq_timeout');
    this.upstream_rq_per_try_timeout = s.counter('upstream_rq_per_try_timeout');
    this.upstream_rq_retry = s.counter('upstream_rq_retry');
    this.upstream_rq_retry_success = s.counter('upstream_rq_retry_success');
    this.upstream_rq_retry_overflow = s.counter('upstream_rq_retry_overflow');
    this.upstream_rq_retry_limit_exceeded = s.counter('upstream_rq_retry_limit_exceeded');
    this.upstream_rq_rx_reset = s.counter('upstream_rq_rx_reset');
    this.upstream_rq_tx_reset = s.counter('upstream_rq_tx_reset');
    this.upstream_rq_cancelled = s.counter('upstream_rq_cancelled');
    this.upstream_cx_total = s.counter('upstream_cx_total');
    this.upstream_cx_active = s.gauge('upstream_cx_active');
    this.upstream_cx_http1_total = s.counter('upstream_cx_http1_total');
    this.upstream_cx_http2_total = s.counter('upstream_cx_http2_total');
    this.upstream_cx_connect_fail = s.counter('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = s.counter('upstream_cx_connect_timeout');
    this.upstream_cx_destroy = s.counter('upstream_cx_destroy');
    this.upstream_cx_overflow = s.counter('upstream_cx_overflow');
    this.upstream_cx_none_healthy = s.counter('upstream_cx_none_healthy');
    this.upstream_cx_rx_bytes_total = s.counter('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = s.counter('upstream_cx_tx_bytes_total');
    this.membership_healthy = s.gauge('membership_healthy');
    this.membership_total = s.gauge('membership_total');
    this.membership_change = s.counter('membership_change');
    this.lb_healthy_panic = s.counter('lb_healthy_panic');
    this.upstream_rq_time = s.histogram('upstream_rq_time');
    this.codes = new ResponseCodeStats(s, 'upstream_rq');
  }
}
