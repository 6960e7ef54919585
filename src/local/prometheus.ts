// Prometheus for a local mesh: the file_sd target list of every proxy's merged :15020/stats/prometheus
// (see prometheus-merge.ts), the apps' own endpoints and the control plane's /metrics (<run-dir>/prometheus/targets.json), and the config and argv that run
// Debian's `prometheus` against it (`mizzen up --with-prometheus`).
import { accessSync, constants, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Envoy's Prometheus port (Istio's 15090), bound at each pod IP. */
export const STATS_PORT = 15090;

/** One scrape target: `ip:port` and the labels Prometheus gets with it. */
export interface ScrapeTarget {
  readonly address: string;
  /** `/stats/prometheus` for proxies, `/metrics` for the control plane. */
  readonly path: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** `<run-dir>/prometheus`. */
export function prometheusDir(root: string): string {
  return join(root, 'prometheus');
}

/** Writes targets.json atomically (Prometheus re-reads it on change). */
export function writeTargets(root: string, targets: readonly ScrapeTarget[]): string {
  const dir = prometheusDir(root);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'targets.json');
  const groups = targets.map((t) => ({
    targets: [t.address],
    labels: { __metrics_path__: t.path, ...t.labels },
  }));
  writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return file;
}

/** Writes prometheus.yml scraping targets.json every `intervalS` seconds; returns its path. */
export function writePrometheusConfig(root: string, intervalS: number): string {
  const dir = prometheusDir(root);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'prometheus.yml');
  writeFileSync(
    file,
    `# Written by mizzen up: scrapes every proxy (merged :15020/stats/prometheus), annotated apps and the control plane (/metrics).
global:
  scrape_interval: ${intervalS}s
  evaluation_interval: ${intervalS}s
scrape_configs:
  - job_name: mizzen-mesh
    file_sd_configs:
      - files: ['${join(dir, 'targets.json')}']
        refresh_interval: ${Math.max(1, intervalS)}s
`,
  );
  return file;
}

/** The prometheus binary on PATH, or null (Debian: \`apt-get install prometheus\`). */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const d of (env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const f = join(d, 'prometheus');
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return null;
}

/** argv of a Prometheus serving `listen` with its data under the run directory. */
export function prometheusArgv(bin: string, root: string, config: string, listen: string): string[] {
  return [
    bin,
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(prometheusDir(root), 'data')}`,
    `--web.listen-address=${listen}`,
    '--storage.tsdb.retention.time=1d',
  ];
}
