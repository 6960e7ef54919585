// Admin replies independent of the proxy's objects: the HTTP server around a handler, the reply shape,
// /stats rendering over any store, /logging, /help. Shared by one proxy's admin and the --concurrency primary.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { listLoggers, setAllLevels, setLevel, LEVELS } from '../log.js';
import { renderPrometheus } from '../stats/prometheus.js';
import { renderJson, renderText } from '../stats/render.js';
import type { StatsStore } from '../stats/stats-store.js';

/** Admin paths with their one-line descriptions. */
export const HELP: Array<[string, string]> = [
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

/** True for the admin paths Envoy only accepts as POST. */
export function requiresPost(path: string): boolean {
  return MUTATING.has(path);
}

/** One admin answer, independent of the socket it goes out on (a `--concurrency` worker answers over IPC). */
export interface AdminReply {
  status: number;
  contentType: string;
  body: string;
  /** Runs once the reply has been sent (/quitquitquit exits after answering), or null. */
  after: (() => void) | null;
}

/** Computes the reply to `method url`; may be async (the `--concurrency` primary asks its workers). */
export type AdminHandler = (method: string, url: string) => AdminReply | Promise<AdminReply>;

/** A plain-text (or `contentType`) admin reply. */
export function reply(status: number, body: string, contentType = TEXT): AdminReply {
  return { status, contentType, body, after: null };
}

/** A JSON admin reply, pretty-printed as Envoy prints it. */
export function jsonReply(status: number, obj: unknown): AdminReply {
  return reply(status, JSON.stringify(obj, null, 2) + '\n', 'application/json');
}

const TEXT = 'text/plain; charset=UTF-8';
const PROM = 'text/plain; version=0.0.4; charset=UTF-8';

/** `/stats` (`?format=json|prometheus`, `?filter`, `?usedonly`) and `/stats/prometheus` over a store. */
export function statsReply(
  store: StatsStore,
  path: string,
  q: URLSearchParams,
): AdminReply | Promise<AdminReply> {
  const fmt = q.get('format');
  if (path === '/stats/prometheus' || fmt === 'prometheus')
    return renderPrometheus(store, q.has('usedonly')).then((body) => reply(200, body, PROM));
  let filter: RegExp | null = null;
  const f = q.get('filter');
  if (f) {
    try {
      filter = new RegExp(f);
    } catch {
      return reply(400, `invalid regex "${f}"\n`);
    }
  }
  const sq = { filter, usedOnly: q.has('usedonly') };
  if (fmt === 'json') return reply(200, renderJson(store, sq), 'application/json');
  return reply(200, renderText(store, sq));
}

/** The admin path list (`/` and `/help`). */
export function helpReply(): AdminReply {
  return reply(200, 'admin commands are:\n' + HELP.map(([p, d]) => `  ${p}: ${d}\n`).join(''));
}

/** Binds an HTTP server that answers every request with `handler`; resolves once listening. */
export async function serveAdmin(address: string, port: number, handler: AdminHandler): Promise<Server> {
  const server = createServer((req, res) => {
    let r: AdminReply | Promise<AdminReply>;
    try {
      r = handler(req.method ?? 'GET', req.url ?? '/');
    } catch (e) {
      r = reply(500, `admin error: ${(e as Error).message}\n`);
    }
    void Promise.resolve(r).then(
      (a) => write(res, a),
      (e: Error) => write(res, reply(500, `admin error: ${e.message}\n`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return server;
}

/** Closes an admin server and its connections. */
export function closeAdmin(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

/** Sends a reply and runs its `after` hook once it went out. */
function write(res: ServerResponse, a: AdminReply): void {
  res.writeHead(a.status, {
    'content-type': a.contentType,
    'content-length': Buffer.byteLength(a.body),
    'cache-control': 'no-cache, max-age=0',
  });
  res.end(a.body);
  if (a.after) res.once('finish', a.after);
}

/** Envoy's `/logging`: GET lists the loggers; POST `?level=L` or `?<logger>=L` changes them first. */
export function loggingReply(method: string, q: URLSearchParams): AdminReply {
  if (method === 'POST' && [...q.keys()].length > 0) {
    for (const [k, v] of q) {
      const ok = k === 'level' ? setAllLevels(v) : setLevel(k, v);
      if (!ok) return reply(404, `error: unknown logger or level ${k}=${v} (levels: ${LEVELS.join(', ')})\n`);
    }
  } else if (method !== 'GET' && method !== 'POST') {
    return reply(405, 'This endpoint requires POST\n');
  }
  return reply(
    200,
    'active loggers:\n' +
      listLoggers()
        .map(([n, l]) => `  ${n}: ${l}\n`)
        .join(''),
  );
}
