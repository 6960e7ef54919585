// The dashboard's HTTP server (read-only, 127.0.0.1 by default): the bundled UI plus a small JSON API
// over the control plane's debug endpoints and a metrics source.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { httpGet } from '../local/readiness.js';
import { liveState, type RunPaths } from '../local/run-state.js';
import { buildGraph } from './graph-model.js';
import { configuredSplits, knownServices, type ConfigzResource } from './mesh-config.js';
import type { MetricsSource } from './metrics-source.js';
import { HEADERS, accessLogTail, proxiesOf, proxyTables } from './workload-details.js';

/** The windows the graph offers (seconds): 1 m, 5 m, 1 h. */
export const WINDOWS: Readonly<Record<string, number>> = { '1m': 60, '5m': 300, '1h': 3600 };

/** What the dashboard reads. */
export interface DashboardSources {
  /** `host:port` of the control plane's debug server. */
  readonly controlPlane: string;
  readonly metrics: MetricsSource;
  /** Folder of the built UI (index.html, app.js, app.css). */
  readonly uiDir: string;
  /** The local mesh's run dir (pods, their admin ports and logs); without it /api/workload answers 404. */
  readonly runPaths?: RunPaths;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
};

/** Serves the UI and /api/{graph,health,explain,sources,workload,info}. */
export class DashboardServer {
  private readonly server: Server;

  constructor(private readonly src: DashboardSources) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
    });
  }

  /** Binds `host:port` (0 = any free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops serving. */
  close(): Promise<void> {
    this.src.metrics.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, { error: 'the dashboard is read-only' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/api/graph':
        return this.graph(res, url.searchParams.get('window') ?? '5m');
      case '/api/health':
        return this.relay(res, '/debug/config_health');
      case '/api/explain':
        return this.explain(res, url.searchParams);
      case '/api/workload':
        return this.workload(res, url.searchParams);
      case '/api/sources':
        return this.sources(res);
      case '/api/info':
        return send(res, 200, {
          controlPlane: this.src.controlPlane,
          metrics: this.src.metrics.kind,
          windows: Object.keys(WINDOWS),
        });
      default:
        return this.file(res, url.pathname);
    }
  }

  private async controlPlane(path: string): Promise<{ status: number; body: string }> {
    return httpGet(`http://${this.src.controlPlane}${path}`, 10_000);
  }

  private async relay(res: ServerResponse, path: string): Promise<void> {
    const r = await this.controlPlane(path);
    if (r.status === 0)
      return send(res, 502, { error: `the control plane at ${this.src.controlPlane} does not answer` });
    res.writeHead(r.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(r.body);
  }

  private async graph(res: ServerResponse, window: string): Promise<void> {
    const seconds = WINDOWS[window];
    if (!seconds)
      return send(res, 400, { error: `window must be one of ${Object.keys(WINDOWS).join(', ')}` });
    const [w, configz] = await Promise.all([
      this.src.metrics.window(seconds),
      this.controlPlane('/debug/configz'),
    ]);
    let resources: ConfigzResource[] = [];
    if (configz.status === 200)
      resources = (JSON.parse(configz.body) as { resources: ConfigzResource[] }).resources;
    const g = buildGraph(w, knownServices(resources), configuredSplits(resources));
    send(res, 200, { window, metrics: this.src.metrics.kind, at: Date.now(), ...g });
  }

  /** The connected proxies a request can be explained from. */
  private async sources(res: ServerResponse): Promise<void> {
    const r = await this.controlPlane('/debug/syncz');
    if (r.status !== 200)
      return send(res, 502, { error: `the control plane at ${this.src.controlPlane} does not answer` });
    const ids = [...new Set((JSON.parse(r.body) as { id: string }[]).map((p) => p.id))].sort();
    send(
      res,
      200,
      ids.map((id) => ({ id, name: id.split('~')[2] ?? id, gateway: id.startsWith('router~') })),
    );
  }

  private async explain(res: ServerResponse, q: URLSearchParams): Promise<void> {
    const out = new URLSearchParams();
    out.set('proxyID', q.get('source') ?? '');
    for (const k of ['method', 'host', 'port', 'path']) {
      const v = q.get(k);
      if (v) out.set(k, v);
    }
    for (const h of q.getAll('header')) out.append('header', h);
    return this.relay(res, `/debug/explain?${out.toString()}`);
  }

  /** A workload's pods with their sidecar's proxy-config tables, certificates and last access-log lines. */
  private async workload(res: ServerResponse, q: URLSearchParams): Promise<void> {
    if (!this.src.runPaths)
      return send(res, 404, { error: 'the dashboard was not started over a local mesh' });
    const live = liveState(this.src.runPaths);
    if ('error' in live) return send(res, 503, { error: live.error });
    const name = q.get('name') ?? '';
    const lines = Math.min(Math.max(Number(q.get('lines') ?? 20) || 0, 0), 500);
    const proxies = proxiesOf(this.src.runPaths, live.state, name, q.get('namespace') ?? undefined);
    if (!proxies.length) return send(res, 404, { error: `no pods of workload ${name}` });
    const pods = await Promise.all(
      proxies.map(async (p) => {
        const accessLog = accessLogTail(p.logFile, lines);
        try {
          return { pod: p.pod, namespace: p.namespace, ...(await proxyTables(p.admin)), accessLog };
        } catch (err) {
          return { pod: p.pod, namespace: p.namespace, error: (err as Error).message, accessLog };
        }
      }),
    );
    send(res, 200, { workload: name, headers: HEADERS, pods });
  }

  private async file(res: ServerResponse, path: string): Promise<void> {
    const rel = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
    const type = TYPES[extname(rel)];
    if (!type) return send(res, 404, { error: 'not found' });
    try {
      const body = await readFile(join(this.src.uiDir, rel));
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
    } catch {
      send(res, 404, { error: `not found: ${rel}` });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}
