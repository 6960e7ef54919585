// Envoy's http.<stat_prefix>.* connection-manager statistics.
import {
  ResponseCodeStats,
  type Counter,
  type Gauge,
  type Histogram,
  type Scope,
  type StatsStore,
} from '../../stats/stats-store.js';

/** Per-HCM (per stat_prefix) statistics. */
export class HcmStats {
  readonly scope: Scope;
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_http1_total: Counter;
  readonly downstream_cx_http2_total: Counter;
  readonly downstream_cx_http1_active: Gauge;
  readonly downstream_cx_http2_active: Gauge;
  readonly downstream_cx_destroy: Counter;
  readonly downstream_cx_drain_close: Counter;
  readonly downstream_cx_upgrades_total: Counter;
  readonly downstream_cx_upgrades_active: Gauge;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_http1_total: Counter;
  readonly downstream_rq_http2_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_completed: Counter;
  readonly downstream_rq_rx_reset: Counter;
  readonly downstream_rq_tx_reset: Counter;
  readonly downstream_rq_ws_on_non_ws_route: Counter;
  readonly downstream_rq_header_timeout: Counter;
  readonly downstream_rq_idle_timeout: Counter;
  readonly downstream_cx_idle_timeout: Counter;
  readonly downstream_rq_timeout: Counter;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_rq_too_large: Counter;
  readonly no_route: Counter;
  readonly no_cluster: Counter;
  readonly rq_direct_response: Counter;
  readonly rq_redirect: Counter;
  readonly downstream_rq_time: Histogram;
  /** downstream_rq_<class>xx. */
  readonly codes: ResponseCodeStats;

  constructor(store: StatsStore, statPrefix: string) {
    const s = store.scope(`http.${statPrefix}.`, 'http.', [['envoy_http_conn_manager_prefix', statPrefix]]);
    this.scope = s;
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_http1_total = s.counter('downstream_cx_http1_total');
    this.downstream_cx_http2_total = s.counter('downstream_cx_http2_total');
    this.downstream_cx_http1_active = s.gauge('downstream_cx_http1_active');
    this.downstream_cx_http2_active = s.gauge('downstream_cx_http2_active');
    this.downstream_cx_destroy = s.counter('downstream_cx_destroy');
    this.downstream_cx_drain_close = s.counter('downstream_cx_drain_close');
    this.downstream_cx_upgrades_total = s.counter('downstream_cx_upgrades_total');
    this.downstream_cx_upgrades_active = s.gauge('downstream_cx_upgrades_active');
    this.downstream_rq_total = s.counter('downstream_rq_total');
    this.downstream_rq_http1_total = s.counter('downstream_rq_http1_total');
    this.downstream_rq_http2_total = s.counter('downstream_rq_http2_total');
    this.downstream_rq_active = s.gauge('downstream_rq_active');
    this.downstream_rq_completed = s.counter('downstream_rq_completed');
    this.downstream_rq_rx_reset = s.counter('downstream_rq_rx_reset');
    this.downstream_rq_tx_reset = s.counter('downstream_rq_tx_reset');
    this.downstream_rq_ws_on_non_ws_route = s.counter('downstream_rq_ws_on_non_ws_route');
    this.downstream_rq_header_timeout = s.counter('downstream_rq_header_timeout');
    this.downstream_rq_idle_timeout = s.counter('downstream_rq_idle_timeout');
    this.downstream_cx_idle_timeout = s.counter('downstream_cx_idle_timeout');
    this.downstream_rq_timeout = s.counter('downstream_rq_timeout');
    this.downstream_cx_protocol_error = s.counter('downstream_cx_protocol_error');
    this.downstream_rq_too_large = s.counter('downstream_rq_too_large');
    this.no_route = s.counter('no_route');
    this.no_cluster = s.counter('no_cluster');
    this.rq_direct_response = s.counter('rq_direct_response');
    this.rq_redirect = s.counter('rq_redirect');
    this.downstream_rq_time = s.histogram('downstream_rq_time');
    this.codes = new ResponseCodeStats(s, 'downstream_rq', false);
  }
}
