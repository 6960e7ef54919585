// Prometheus text exposition of the control plane's metrics under Istio's names.
import type { AdsMetrics } from '../xds/ads-server.js';

/** pilot_proxy_convergence_time buckets, seconds (Istio's). */
const BUCKETS = [0.1, 0.5, 1, 3, 5, 10, 20, 30];

/** A cumulative histogram fed with samples. */
export class Histogram {
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private count = 0;
  private sum = 0;

  /** Adds samples (seconds). */
  observe(samples: readonly number[]): void {
    for (const s of samples) {
      this.count++;
      this.sum += s;
      for (let i = 0; i < BUCKETS.length; i++) if (s <= BUCKETS[i]) this.counts[i]++;
    }
  }

  /** Exposition lines for metric `name`. */
  lines(name: string, help: string): string[] {
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    BUCKETS.forEach((b, i) => out.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    out.push(
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    );
    return out;
  }
}

/** Inputs of one scrape. */
export interface MetricsInput {
  readonly ads: AdsMetrics;
  readonly convergence: Histogram;
  readonly services: number;
  readonly virtualServices: number;
  readonly configVersion: number;
  /** Files currently rejected, and error diagnostics in them. */
  readonly rejectedFiles: number;
  readonly configErrors: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function metric(
  out: string[],
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  values: Record<string, number> | number,
  label = 'type',
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  if (typeof values === 'number') out.push(`${name} ${values}`);
  else for (const [k, v] of Object.entries(values)) out.push(`${name}{${label}="${escapeLabel(k)}"} ${v}`);
}

/** The /metrics body. */
export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  metric(
    out,
    'pilot_xds',
    'gauge',
    'Number of endpoints connected to this pilot using XDS.',
    m.ads.pilot_xds,
  );
  metric(
    out,
    'pilot_xds_pushes',
    'counter',
    'Pilot build and send errors for lds, rds, cds and eds.',
    m.ads.pilot_xds_pushes,
  );
  metric(
    out,
    'pilot_total_xds_rejects',
    'counter',
    'Total number of XDS responses from pilot rejected by proxy.',
    m.ads.pilot_total_xds_rejects,
  );
  for (const [t, v] of Object.entries(m.ads.pilot_xds_rejects))
    metric(out, `pilot_xds_${t}_reject`, 'counter', `Pilot rejected ${t.toUpperCase()} configs.`, v);
  metric(
    out,
    'pilot_xds_expired_nonce',
    'counter',
    'Total number of XDS requests with an expired nonce.',
    m.ads.pilot_xds_expired_nonce,
  );
  metric(
    out,
    'pilot_xds_write_timeout',
    'counter',
    'Pilot XDS response write timeouts (streams closed for not taking a response).',
    m.ads.pilot_xds_write_timeout,
  );
  out.push(
    ...m.convergence.lines(
      'pilot_proxy_convergence_time',
      'Delay in seconds between config change and a proxy receiving all required configuration.',
    ),
  );
  metric(out, 'pilot_services', 'gauge', 'Total services known to pilot.', m.services);
  metric(out, 'pilot_virt_services', 'gauge', 'Total virtual services known to pilot.', m.virtualServices);
  metric(
    out,
    'pilot_config_version',
    'gauge',
    'Version of the config snapshot being served.',
    m.configVersion,
  );
  metric(
    out,
    'pilot_config_rejected_files',
    'gauge',
    'Config files currently rejected (their last good version keeps serving).',
    m.rejectedFiles,
  );
  metric(
    out,
    'pilot_config_errors',
    'gauge',
    'Errors in the config files currently rejected.',
    m.configErrors,
  );
  processMetrics(out);
  return out.join('\n') + '\n';
}

/** The server process's own figures, under the names prom-client's default metrics use. */
function processMetrics(out: string[]): void {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  metric(
    out,
    'process_cpu_seconds_total',
    'counter',
    'Total user and system CPU time spent in seconds.',
    (cpu.user + cpu.system) / 1e6,
  );
  metric(out, 'process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', mem.rss);
  metric(
    out,
    'nodejs_heap_size_used_bytes',
    'gauge',
    'Process heap size used from Node.js in bytes.',
    mem.heapUsed,
  );
  metric(
    out,
    'nodejs_heap_size_total_bytes',
    'gauge',
    'Process heap size from Node.js in bytes.',
    mem.heapTotal,
  );
  metric(
    out,
    'nodejs_external_memory_bytes',
    'gauge',
    'Node.js external memory size in bytes.',
    mem.external,
  );
  metric(
    out,
    'nodejs_array_buffers_bytes',
    'gauge',
    'Memory of ArrayBuffers and Buffers in bytes.',
    mem.arrayBuffers,
  );
}
