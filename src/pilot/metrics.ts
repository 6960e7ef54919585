// The control plane's Prometheus metrics under istiod's names, exposed through prom-client (the same
// encoder the proxy's /stats/prometheus uses); values are read from their sources at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConfigEventCount } from '../config/config-events.js';
import type { AdsMetrics } from '../xds/ads-server.js';

/** pilot_proxy_convergence_time buckets, seconds (istiod's). */
const CONVERGENCE_BUCKETS = [0.1, 0.5, 1, 3, 5, 10, 20, 30];

/** What a scrape reads. */
export interface MetricsSources {
  readonly ads: () => AdsMetrics;
  /** Convergence samples (seconds) since the last call. */
  readonly convergenceSamples: () => readonly number[];
  readonly services: () => number;
  readonly virtualServices: () => number;
  readonly configVersion: () => number;
  /** Files currently rejected, and the error diagnostics in them. */
  readonly rejected: () => { files: number; errors: number };
  /** Config events by kind and add/update/delete, running totals. */
  readonly configEvents: () => readonly ConfigEventCount[];
}

/** A counter whose value is a running total kept elsewhere, set at each scrape. */
function totals(reg: Registry, name: string, help: string, read: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: ['type'],
    registers: [reg],
    collect() {
      this.reset();
      for (const [type, v] of Object.entries(read())) if (v > 0) this.inc({ type }, v);
    },
  });
}

function gauge(reg: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [reg],
    collect() {
      this.set(read());
    },
  });
}

/** The control plane's registry: istiod's pilot_* metrics plus Node's process metrics. */
export class PilotMetrics {
  readonly registry = new Registry();

  constructor(src: MetricsSources) {
    const reg = this.registry;
    gauge(
      reg,
      'pilot_xds',
      'Number of endpoints connected to this pilot using XDS.',
      () => src.ads().pilot_xds,
    );
    totals(
      reg,
      'pilot_xds_pushes',
      'Pilot build and send errors for lds, rds, cds and eds.',
      () => src.ads().pilot_xds_pushes,
    );
    totals(
      reg,
      'pilot_xds_expired_nonce',
      'Total number of XDS requests with an expired nonce.',
      () => src.ads().pilot_xds_expired_nonce,
    );
    new Counter({
      name: 'pilot_total_xds_rejects',
      help: 'Total number of XDS responses from pilot rejected by proxy.',
      registers: [reg],
      collect() {
        this.reset();
        this.inc(src.ads().pilot_total_xds_rejects);
      },
    });
    new Counter({
      name: 'pilot_xds_write_timeout',
      help: 'Pilot XDS response write timeouts (streams closed for not taking a response).',
      registers: [reg],
      collect() {
        this.reset();
        this.inc(src.ads().pilot_xds_write_timeout);
      },
    });
    for (const t of ['cds', 'eds', 'lds', 'rds'])
      new Counter({
        name: `pilot_xds_${t}_reject`,
        help: `Pilot rejected ${t.toUpperCase()} configs.`,
        registers: [reg],
        collect() {
          this.reset();
          this.inc(src.ads().pilot_xds_rejects[t] ?? 0);
        },
      });
    new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
      buckets: CONVERGENCE_BUCKETS,
      registers: [reg],
      collect() {
        for (const s of src.convergenceSamples()) this.observe(s);
      },
    });
    new Counter({
      name: 'pilot_k8s_cfg_events',
      help: 'Events from k8s config.',
      labelNames: ['type', 'event'],
      registers: [reg],
      collect() {
        this.reset();
        for (const c of src.configEvents()) this.inc({ type: c.type, event: c.event }, c.count);
      },
    });
    gauge(reg, 'pilot_services', 'Total services known to pilot.', src.services);
    gauge(reg, 'pilot_virt_services', 'Total virtual services known to pilot.', src.virtualServices);
    gauge(reg, 'pilot_config_version', 'Version of the config snapshot being served.', src.configVersion);
    gauge(
      reg,
      'pilot_config_rejected_files',
      'Config files currently rejected (their last good version keeps serving).',
      () => src.rejected().files,
    );
    gauge(
      reg,
      'pilot_config_errors',
      'Errors in the config files currently rejected.',
      () => src.rejected().errors,
    );
    collectDefaultMetrics({ register: reg });
  }

  /** The text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
