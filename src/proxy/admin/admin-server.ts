// Envoy's admin interface (default 127.0.0.1:15000): config_dump, clusters, listeners, stats (text,
// JSON, Prometheus), ready, server_info, drain_listeners, quitquitquit, logging, reset_counters.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listLoggers, setAllLevels, setLevel, LEVELS } from '../log.js';
import { renderJson, renderPrometheus, renderText } from '../stats/render.js';
import { renderClusters, renderClustersJson } from './clusters.js';
import { buildConfigDump } from './config-dump.js';
import type { AdminContext } from './admin-context.js';

const HELP: Array<[string, string]> = [
  ['/', 'this list'],
  ['/clusters', 'upstream cluster status (?format=json)'],
  ['/config_dump', 'current config (canonical xDS resources; ?include_eds, ?resource=)'],
  ['/drain_listeners', 'POST: drain listeners (?graceful, ?inboundonly)'],
  ['/listeners', 'listener names and bound addresses (?format=json)'],
  ['/logging', 'GET: list loggers; POST ?level=<l> or ?<logger>=<l>'],
  ['/quitquitquit', 'POST: exit the proxy'],
  ['/ready', 'LIVE when config has been received'],
  ['/reset_counters', 'POST: reset all counters to zero'],
  ['/server_info', 'proxy state, version, node'],
  ['/stats', 'stats (?filter=<regex>, ?usedonly, ?format=json|prometheus)'],
  ['/stats/prometheus', 'stats in Prometheus text format'],
];

const MUTATING = new Set([
  '/drain_listeners',
  '/quitquitquit',
  '/reset_counters',
  '/healthcheck/fail',
  '/healthcheck/ok',
]);

/** The admin HTTP server. */
export class AdminServer {
  private server: Server | null = null;
  port = 0;

  constructor(private readonly ctx: AdminContext) {}

  /** Binds the admin listener; resolves to the bound port. */
  async listen(address: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (e) {
        send(res, 500, `admin error: ${(e as Error).message}\n`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
  }

  /** Closes the admin listener. */
  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const q = url.searchParams;
    const ctx = this.ctx;
    if (MUTATING.has(path) && req.method !== 'POST') {
      send(res, 405, 'This endpoint requires POST\n');
      return;
    }
    switch (path) {
      case '/':
      case '/help':
        send(res, 200, 'admin commands are:\n' + HELP.map(([p, d]) => `  ${p}: ${d}\n`).join(''));
        return;
      case '/ready': {
        const s = ctx.state();
        send(res, s === 'LIVE' ? 200 : 503, `${s}\n`);
        return;
      }
      case '/server_info':
        sendJson(res, 200, ctx.serverInfo());
        return;
      case '/config_dump':
        sendJson(res, 200, buildConfigDump(ctx, q.has('include_eds'), q.get('resource')));
        return;
      case '/clusters':
        if (q.get('format') === 'json') sendJson(res, 200, renderClustersJson(ctx.clusters));
        else send(res, 200, renderClusters(ctx.clusters));
        return;
      case '/listeners': {
        const ls = [...ctx.listeners.entries.values()].map((e) => e.listener);
        if (q.get('format') === 'json') {
          sendJson(res, 200, {
            listenerStatuses: ls.map((l) => ({
              name: l.config.name,
              localAddress: {
                socketAddress: { address: l.config.address, portValue: l.boundPort || l.config.port },
              },
            })),
          });
        } else send(res, 200, ls.map((l) => `${l.config.name}::${l.boundAddress}\n`).join(''));
        return;
      }
      case '/stats': {
        const fmt = q.get('format');
        if (fmt === 'prometheus') {
          sendProm(res, renderPrometheus(ctx.store, q.has('usedonly')));
          return;
        }
        let filter: RegExp | null = null;
        const f = q.get('filter');
        if (f) {
          try {
            filter = new RegExp(f);
          } catch {
            send(res, 400, `invalid regex "${f}"\n`);
            return;
          }
        }
        const sq = { filter, usedOnly: q.has('usedonly') };
        if (fmt === 'json') send(res, 200, renderJson(ctx.store, sq), 'application/json');
        else send(res, 200, renderText(ctx.store, sq));
        return;
      }
      case '/stats/prometheus':
        sendProm(res, renderPrometheus(ctx.store, q.has('usedonly')));
        return;
      case '/drain_listeners':
        ctx.listeners.drainAll(q.has('graceful'), q.has('inboundonly'));
        send(res, 200, 'OK\n');
        return;
      case '/quitquitquit':
        send(res, 200, 'OK\n');
        res.once('finish', () => ctx.quit());
        return;
      case '/reset_counters':
        ctx.store.resetCounters();
        send(res, 200, 'OK\n');
        return;
      case '/logging':
        this.logging(req, res, q);
        return;
      case '/memory': {
        const m = process.memoryUsage();
        sendJson(res, 200, {
          allocated: String(m.heapUsed),
          heapSize: String(m.heapTotal),
          totalPhysicalBytes: String(m.rss),
        });
        return;
      }
      case '/runtime':
        sendJson(res, 200, { layers: [], entries: {} });
        return;
      default:
        send(res, 404, `invalid path. admin commands are:\n${HELP.map(([p]) => `  ${p}\n`).join('')}`);
    }
  }

  private logging(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
    if (req.method === 'POST' && [...q.keys()].length > 0) {
      for (const [k, v] of q) {
        const ok = k === 'level' ? setAllLevels(v) : setLevel(k, v);
        if (!ok) {
          send(res, 404, `error: unknown logger or level ${k}=${v} (levels: ${LEVELS.join(', ')})\n`);
          return;
        }
      }
    } else if (req.method !== 'GET' && req.method !== 'POST') {
      send(res, 405, 'This endpoint requires POST\n');
      return;
    }
    send(
      res,
      200,
      'active loggers:\n' +
        listLoggers()
          .map(([n, l]) => `  ${n}: ${l}\n`)
          .join(''),
    );
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=UTF-8'): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, max-age=0',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, obj: unknown): void {
  send(res, status, JSON.stringify(obj, null, 2) + '\n', 'application/json');
}

function sendProm(res: ServerResponse, body: string): void {
  send(res, 200, body, 'text/plain; version=0.0.4; charset=UTF-8');
}
