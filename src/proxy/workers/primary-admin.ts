// Admin of a `--concurrency N` proxy, served once by the primary: stats merged over the workers, /ready
// only when every worker is LIVE, mutating endpoints sent to every worker, config views from one worker.
import type { AdminContext, ServerState } from '../admin/admin-context.js';
import {
  jsonReply,
  loggingReply,
  reply,
  requiresPost,
  statsReply,
  type AdminHandler,
  type AdminReply,
} from '../admin/admin-reply.js';
import { mergeSnapshots, type StatsSnapshot } from '../stats/stats-merge.js';

/** A worker's admin answer as it arrives over IPC. */
export type WorkerAnswer = Omit<AdminReply, 'after'>;

/** One worker as /server_info lists it. */
export interface WorkerInfo {
  /** Slot number, 0..N-1 (a restarted worker keeps its slot). */
  index: number;
  pid: number;
  state: ServerState;
  /** Times this slot's worker was restarted after dying. */
  restarts: number;
}

/** What the primary's admin needs from the worker supervisor. */
export interface WorkerPool {
  /** N of `--concurrency N`. */
  readonly concurrency: number;
  /** LIVE when every slot has a LIVE worker; DRAINING once stopping; INITIALIZING otherwise. */
  state(): ServerState;
  workers(): WorkerInfo[];
  /** The answer of worker `index`; null when it is not running or did not answer. */
  askWorker(index: number, method: string, url: string): Promise<WorkerAnswer | null>;
  /** The answer of the lowest-numbered started worker; null when none is running or it did not answer. */
  askOne(method: string, url: string): Promise<WorkerAnswer | null>;
  /** Every started worker's answer (null for one that did not answer); [] when none runs. */
  askAll(method: string, url: string): Promise<Array<WorkerAnswer | null>>;
  /** Snapshots of every started worker plus what exited workers had counted, or why they are incomplete. */
  collectStats(): Promise<StatsSnapshot[] | string>;
  /** Forgets exited workers' counters (admin /reset_counters). */
  resetRetired(): void;
  /** Stops every worker and the primary (admin /quitquitquit). */
  quit(): void;
  /** When the primary started, ms since the epoch. */
  readonly startedAt: number;
}

const NO_WORKER = reply(503, 'no proxy worker is running\n');

/** The primary's admin handler over a worker pool. */
export function primaryAdminHandler(pool: WorkerPool): AdminHandler {
  return async (method, rawUrl) => {
    const url = new URL(rawUrl, 'http://admin');
    const path = url.pathname;
    const q = url.searchParams;
    if (requiresPost(path) && method !== 'POST') return reply(405, 'This endpoint requires POST\n');
    const worker = q.get('worker');
    if (worker !== null) return oneByIndex(pool, worker, path, method, rawUrl);
    switch (path) {
      case '/ready': {
        const s = pool.state();
        return reply(s === 'LIVE' ? 200 : 503, `${s}\n`);
      }
      case '/stats':
      case '/stats/prometheus': {
        const snaps = await pool.collectStats();
        if (typeof snaps === 'string') return reply(503, `${snaps}\n`);
        return statsReply(mergeSnapshots(snaps), path, q);
      }
      case '/quitquitquit':
        return { ...reply(200, 'OK\n'), after: () => pool.quit() };
      case '/reset_counters':
        pool.resetRetired();
        return everyWorker(pool, method, rawUrl);
      case '/drain_listeners':
      case '/healthcheck/fail':
      case '/healthcheck/ok':
        return everyWorker(pool, method, rawUrl);
      case '/logging':
        if (method !== 'POST' || [...q.keys()].length === 0) return oneWorker(pool, method, rawUrl);
        loggingReply(method, q); // the primary's own loggers; names only workers have are not an error
        return everyWorker(pool, method, rawUrl);
      case '/server_info':
        return serverInfo(pool, method, rawUrl);
      case '/memory':
        return memory(pool, method, rawUrl);
      default:
        // /config_dump, /clusters, /listeners, /help...: every worker holds the same config.
        return oneWorker(pool, method, rawUrl);
    }
  };
}

/** `?worker=N`: one worker's own answer (its own stats, clusters...), to see how load spreads. */
async function oneByIndex(
  pool: WorkerPool,
  worker: string,
  path: string,
  method: string,
  url: string,
): Promise<AdminReply> {
  const n = /^\d+$/.test(worker) ? Number(worker) : NaN;
  if (!(n < pool.concurrency)) return reply(400, `?worker must be 0..${pool.concurrency - 1}\n`);
  if (path === '/quitquitquit') return reply(400, '/quitquitquit stops every worker; drop ?worker\n');
  const a = await pool.askWorker(n, method, url);
  return a ? { ...a, after: null } : reply(503, `worker ${n} is not running\n`);
}

async function oneWorker(pool: WorkerPool, method: string, url: string): Promise<AdminReply> {
  const a = await pool.askOne(method, url);
  return a ? { ...a, after: null } : NO_WORKER;
}

/** Sends the request to every worker; the first failure, else the first worker's reply. */
async function everyWorker(pool: WorkerPool, method: string, url: string): Promise<AdminReply> {
  const answers = await pool.askAll(method, url);
  if (answers.length === 0) return NO_WORKER;
  if (answers.some((a) => a === null)) return reply(503, 'a proxy worker did not answer\n');
  const bad = answers.find((a) => a!.status >= 300);
  return { ...(bad ?? answers[0]!), after: null };
}

/** Worker 0's /server_info with the whole proxy's state and uptime, plus the workers. */
async function serverInfo(pool: WorkerPool, method: string, url: string): Promise<AdminReply> {
  const a = await pool.askOne(method, url);
  if (!a) return NO_WORKER;
  const info = JSON.parse(a.body) as ReturnType<AdminContext['serverInfo']>;
  info.state = pool.state();
  // Envoy's "all epochs" uptime spans hot restarts; here it spans worker restarts.
  info.uptimeAllEpochs = { seconds: Math.floor((Date.now() - pool.startedAt) / 1000) };
  info.workers = pool.workers();
  return jsonReply(200, info);
}

/** /memory summed over the workers and the primary. */
async function memory(pool: WorkerPool, method: string, url: string): Promise<AdminReply> {
  const answers = await pool.askAll(method, url);
  const m = process.memoryUsage();
  const sum = { allocated: m.heapUsed, heapSize: m.heapTotal, totalPhysicalBytes: m.rss };
  for (const a of answers) {
    if (!a || a.status !== 200) continue;
    const w = JSON.parse(a.body) as Record<keyof typeof sum, string>;
    for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += Number(w[k]) || 0;
  }
  return jsonReply(200, {
    allocated: String(sum.allocated),
    heapSize: String(sum.heapSize),
    totalPhysicalBytes: String(sum.totalPhysicalBytes),
  });
}
