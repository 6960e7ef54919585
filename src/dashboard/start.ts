// Starts the dashboard for a control plane: picks the metrics source, binds 127.0.0.1:20001 (Kiali's
// port) or the next free one, and returns its URL.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canBind, freePort } from '../local/ports.js';
import type { RunPaths } from '../local/run-state.js';
import { PrometheusSource, ScrapeSource, type MetricsSource } from './metrics-source.js';
import { DashboardServer } from './server.js';

/** Kiali's default port. */
export const DASHBOARD_PORT = 20001;

/** Where `npm run build` puts the bundled UI (dist/dashboard-ui, beside dist/src). */
export function uiDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard-ui');
}

/** How to start it. */
export interface DashboardOptions {
  /** `host:port` of the control plane's debug server. */
  readonly controlPlane: string;
  /** `host:port` of a Prometheus scraping the proxies; when absent the proxies are scraped directly. */
  readonly prometheus?: string;
  /** The proxies' stats URLs, re-read every scrape (from targets.json). */
  readonly targets: () => string[];
  readonly address?: string;
  /** Port to try first; taken → the next free one. 0 = any. */
  readonly port?: number;
  /** Scrape interval when scraping directly (ms). */
  readonly scrapeMs?: number;
  /** The local mesh's run dir, for the workload page's sidecar config, certificates and access log. */
  readonly runPaths?: RunPaths;
}

/** A running dashboard. */
export interface RunningDashboard {
  readonly url: string;
  readonly metrics: string;
  close(): Promise<void>;
}

/** Starts the dashboard; throws when the UI was not built. */
export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const dir = uiDir();
  if (!existsSync(join(dir, 'index.html')))
    throw new Error(`the dashboard UI is not built (${dir}); run npm run build`);
  const metrics: MetricsSource = o.prometheus
    ? new PrometheusSource(o.prometheus)
    : new ScrapeSource(o.targets, o.scrapeMs ?? 2000);
  const host = o.address ?? '127.0.0.1';
  const wanted = o.port ?? DASHBOARD_PORT;
  let port = wanted;
  if (wanted !== 0 && !(await canBind(host, wanted))) {
    port = wanted + 1;
    while (port < wanted + 20 && !(await canBind(host, port))) port++;
    if (port === wanted + 20) port = await freePort(host);
  }
  const server = new DashboardServer({
    controlPlane: o.controlPlane,
    metrics,
    uiDir: dir,
    ...(o.runPaths ? { runPaths: o.runPaths } : {}),
  });
  const bound = await server.listen(host, port);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    metrics: metrics.kind,
    close: () => server.close(),
  };
}
