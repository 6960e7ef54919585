// Istio's merged Prometheus endpoint (pilot-agent's status port 15020): GET /stats/prometheus or
// /metrics answers the agent's own metrics, then the proxy's (what :15090 serves), then the app's when
// the pod asked for it with prometheus.io annotations, concatenated. A failed part is left out and
// counted (istio_agent_scrape_failures_total{type}), never failing the whole scrape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import type { AdminHandler } from './admin-reply.js';
import { scrapeApp, scrapeTimeoutMs, type AppMetricsTarget } from './app-metrics.js';

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/** Without X-Prometheus-Scrape-Timeout-Seconds the app gets this long (Prometheus's default timeout). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Serves the merged metrics on one address. */
export class MergedStatsServer {
  private server: Server | null = null;
  private readonly registry = new Registry();
  private readonly scrapes: Counter;
  private readonly failures: Counter<'type'>;

  constructor(
    private readonly proxyStats: AdminHandler,
    private readonly app: AppMetricsTarget | null,
  ) {
    const registers = [this.registry];
    this.scrapes = new Counter({
      name: 'istio_agent_scrapes_total',
      help: 'The total number of scrapes.',
      registers,
    });
    this.failures = new Counter({
      name: 'istio_agent_scrape_failures_total',
      help: 'The total number of failed scrapes.',
      labelNames: ['type'],
      registers,
    });
  }

  /** Binds `host:port`; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('clientError', (_e, socket) => socket.destroy());
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/stats/prometheus' && path !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('only /stats/prometheus and /metrics are served here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    this.scrapes.inc();
    const timeoutMs = scrapeTimeoutMs(req.headers, DEFAULT_TIMEOUT_MS);
    const [proxy, app] = await Promise.all([this.proxyText(), this.appResponse(req, timeoutMs)]);
    let agent = '';
    try {
      agent = await this.registry.metrics();
    } catch {
      this.failures.inc({ type: 'agent' });
    }
    // The app's format decides the answer's (its OpenMetrics "# EOF" must come last, so it goes last).
    const ct = app?.headers['content-type'] ?? '';
    const open = /^application\/openmetrics-text\b/i.test(ct);
    res.writeHead(200, { 'content-type': open ? ct : TEXT });
    res.write(agent);
    res.write(proxy.endsWith('\n') || proxy === '' ? proxy : `${proxy}\n`);
    if (app === null) {
      res.end();
      return;
    }
    app.on('error', () => {
      this.failures.inc({ type: 'application' });
      res.end();
    });
    res.on('close', () => app.destroy());
    app.pipe(res);
  }

  private async proxyText(): Promise<string> {
    try {
      const r = await this.proxyStats('GET', '/stats/prometheus');
      if (r.status === 200) return r.body;
    } catch {
      // counted below
    }
    this.failures.inc({ type: 'envoy' });
    return '';
  }

  private async appResponse(req: IncomingMessage, timeoutMs: number): Promise<IncomingMessage | null> {
    if (this.app === null) return null;
    const r = await scrapeApp(this.app, req.headers, timeoutMs);
    if (r === null) this.failures.inc({ type: 'application' });
    return r;
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
