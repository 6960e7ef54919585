// The primary of `mizzen proxy --concurrency N`: forks N proxy workers with node:cluster, restarts a worker
// that dies, serves the one admin port (stats merged over the workers) and writes the ready file.
//
// Admin lives here rather than in worker 0 because the primary outlives any worker: /ready, /stats and
// /quitquitquit keep answering while a worker restarts, and the admin socket stays out of the cluster
// module's shared listen handles (a worker's listen() would be shared and round-robined like a listener).
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { ServerState } from '../admin/admin-context.js';
import { closeAdmin, serveAdmin } from '../admin/admin-reply.js';
import { logger, setAllLevels } from '../log.js';
import { writeReadyFile, type ProxyPorts } from '../ready-file.js';
import {
  mergeSnapshots,
  resetSnapshotCounters,
  retiredPart,
  snapshotStats,
  type StatsSnapshot,
} from '../stats/stats-merge.js';
import { WORKER_ENV, type FromWorker, type ToWorker } from './messages.js';
import { primaryAdminHandler, type WorkerAnswer, type WorkerInfo, type WorkerPool } from './primary-admin.js';

const log = logger('main');

/** How long the primary waits for a worker's IPC answer, ms. */
const ASK_TIMEOUT_MS = 5000;
/** How long stopped workers get to exit before SIGKILL, ms. */
const STOP_GRACE_MS = 5000;
/** A worker that dies sooner than this after its start counts as a quick death (restart backoff), ms. */
const QUICK_DEATH_MS = 10_000;

/** How the primary is started. */
export interface PrimaryOptions {
  /** Worker processes (≥ 2). */
  concurrency: number;
  /** Script the workers run (the `mizzen` bin) and its arguments (`proxy ...`, the same flags). */
  exec: string;
  args: string[];
  /** Ready file the primary writes once every worker is LIVE, or null. */
  readyFile: string | null;
  /** Envoy log level of the primary's own log lines. */
  logLevel?: string;
}

/** One worker position; a restarted worker takes over its slot. */
class Slot {
  worker: Worker | null = null;
  /** The worker answered "started" (its static config applied, listeners bound). */
  started = false;
  /** Some worker of this slot started once: a later death is restarted, not fatal. */
  everStarted = false;
  /** Set once the worker is LIVE (its first ports message). */
  ports: ProxyPorts | null = null;
  /** The stats this worker last sent (kept so its counts survive its death). */
  lastStats: StatsSnapshot | null = null;
  forkedAt = 0;
  quickDeaths = 0;
  restarts = 0;
  restartTimer: NodeJS.Timeout | null = null;
  constructor(readonly index: number) {}
}

interface Pending {
  slot: Slot;
  resolve: (m: FromWorker | null) => void;
  timer: NodeJS.Timeout;
}

/** Supervises the workers and answers admin for all of them. */
export class ProxyPrimary implements WorkerPool {
  readonly startedAt = Date.now();
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private admin: Server | null = null;
  private adminRequested = false;
  private adminPort = 0;
  private retired: StatsSnapshot | null = null;
  private stopping = false;
  private exitCode = 0;
  private finish!: (code: number) => void;
  /** Resolves with the exit code once every worker has exited and admin is closed. */
  readonly done = new Promise<number>((r) => (this.finish = r));
  private startup: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly opts: PrimaryOptions) {
    this.slots = Array.from({ length: opts.concurrency }, (_, i) => new Slot(i));
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  /**
   * Forks the workers and binds admin where they say it goes; rejects (after stopping them) when a
   * worker fails during start-up or admin cannot bind.
   */
  async start(): Promise<void> {
    const opts = this.opts;
    if (opts.logLevel) setAllLevels(opts.logLevel);
    // Round robin in the primary, not the kernel: connections spread evenly over the workers (with a
    // shared accept queue Linux tends to wake the same worker), and each stays on the worker it got.
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ exec: opts.exec, args: opts.args });
    const started = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
    for (const s of this.slots) this.fork(s);
    try {
      await started;
    } catch (e) {
      await this.stop(1);
      throw e;
    }
  }

  private fork(slot: Slot): void {
    slot.restartTimer = null;
    if (this.stopping) return;
    const w = cluster.fork({ [WORKER_ENV]: String(slot.index) });
    slot.worker = w;
    slot.started = false;
    slot.ports = null;
    slot.forkedAt = Date.now();
    w.on('message', (m: FromWorker) => this.onMessage(slot, w, m));
    w.on('exit', (code, signal) => this.onExit(slot, w, code, signal));
    w.on('error', (e) => log.warn(`worker ${slot.index}: ${e.message}`));
  }

  private onMessage(slot: Slot, w: Worker, m: FromWorker): void {
    if (slot.worker !== w) return;
    switch (m.t) {
      case 'started':
        slot.started = true;
        slot.everStarted = true;
        if (!this.adminRequested) {
          this.adminRequested = true;
          void this.bindAdmin(m.admin.address, m.admin.port);
        } else if (this.admin && this.slots.every((s) => s.everStarted)) this.startup?.resolve();
        return;
      case 'ports':
        slot.ports = m.ports;
        this.publishReady();
        return;
      case 'admin':
      case 'stats': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m);
      }
    }
  }

  private async bindAdmin(address: string, port: number): Promise<void> {
    try {
      const server = await serveAdmin(address, port, primaryAdminHandler(this));
      const a = server.address();
      this.adminPort = typeof a === 'object' && a ? a.port : port;
      this.admin = server;
      log.info(`admin listening on ${address}:${this.adminPort} (${this.concurrency} workers)`);
    } catch (e) {
      this.startup?.reject(new Error(`admin ${address}:${port}: ${(e as Error).message}`));
      return;
    }
    if (this.stopping) {
      await closeAdmin(this.admin);
      return;
    }
    if (this.slots.every((s) => s.everStarted)) this.startup?.resolve();
    this.publishReady();
  }

  private onExit(slot: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== w) return;
    slot.worker = null;
    slot.started = false;
    slot.ports = null;
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(null);
    }
    if (slot.lastStats) {
      const parts = this.retired
        ? [this.retired, retiredPart(slot.lastStats)]
        : [retiredPart(slot.lastStats)];
      this.retired = snapshotStats(mergeSnapshots(parts));
      slot.lastStats = null;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.stopping) {
      if (this.slots.every((s) => s.worker === null)) void this.closeAndFinish();
      return;
    }
    if (!slot.everStarted) {
      log.error(`worker ${slot.index} (pid ${w.process.pid}) exited during start-up (${how}); stopping`);
      this.startup?.reject(new Error(`worker ${slot.index} failed to start (${how})`));
      return;
    }
    slot.quickDeaths = Date.now() - slot.forkedAt < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(10_000, 500 * 2 ** (slot.quickDeaths - 1));
    slot.restarts++;
    log.warn(
      `worker ${slot.index} (pid ${w.process.pid}) exited (${how}); restarting it` +
        (delay ? ` in ${delay} ms` : ''),
    );
    slot.restartTimer = setTimeout(() => this.fork(slot), delay);
  }

  /** Writes the ready file once every worker is LIVE and admin is bound (and again on listener changes). */
  private publishReady(): void {
    const f = this.opts.readyFile;
    if (!f || !this.admin || this.state() !== 'LIVE') return;
    const first = this.slots[0].ports!;
    writeReadyFile(f, {
      adminPort: this.adminPort,
      admin: `127.0.0.1:${this.adminPort}`,
      listeners: first.listeners,
      state: 'LIVE',
    });
  }

  // ---- WorkerPool (the admin's view) ----

  state(): ServerState {
    if (this.stopping) return 'DRAINING';
    return this.slots.every((s) => s.ports?.state === 'LIVE') ? 'LIVE' : 'INITIALIZING';
  }

  workers(): WorkerInfo[] {
    return this.slots.map((s) => ({
      index: s.index,
      pid: s.worker?.process.pid ?? 0,
      state: s.ports?.state ?? (s.worker ? 'INITIALIZING' : 'PRE_INITIALIZING'),
      restarts: s.restarts,
    }));
  }

  private ask(slot: Slot, msg: ToWorker): Promise<FromWorker | null> {
    return new Promise((resolve) => {
      const w = slot.worker;
      if (!w || !slot.started || !w.isConnected()) {
        resolve(null);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(msg.id);
        resolve(null);
      }, ASK_TIMEOUT_MS);
      this.pending.set(msg.id, { slot, resolve, timer });
      w.send(msg, undefined, (err) => {
        if (!err || !this.pending.delete(msg.id)) return;
        clearTimeout(timer);
        resolve(null);
      });
    });
  }

  private running(): Slot[] {
    return this.slots.filter((s) => s.worker && s.started);
  }

  private async askAdmin(slot: Slot, method: string, url: string): Promise<WorkerAnswer | null> {
    const m = await this.ask(slot, { t: 'admin', id: this.nextId++, method, url });
    return m?.t === 'admin' ? m.reply : null;
  }

  askWorker(index: number, method: string, url: string): Promise<WorkerAnswer | null> {
    const s = this.slots[index];
    return s ? this.askAdmin(s, method, url) : Promise.resolve(null);
  }

  askOne(method: string, url: string): Promise<WorkerAnswer | null> {
    const s = this.running()[0];
    return s ? this.askAdmin(s, method, url) : Promise.resolve(null);
  }

  askAll(method: string, url: string): Promise<Array<WorkerAnswer | null>> {
    return Promise.all(this.running().map((s) => this.askAdmin(s, method, url)));
  }

  async collectStats(): Promise<StatsSnapshot[] | string> {
    const slots = this.running();
    const answers = await Promise.all(slots.map((s) => this.ask(s, { t: 'stats', id: this.nextId++ })));
    const out: StatsSnapshot[] = [];
    for (let i = 0; i < slots.length; i++) {
      const m = answers[i];
      // A worker that exited meanwhile is in `retired` now; one that is alive but silent would make
      // the totals drop, so say so instead of answering with them.
      if (m?.t === 'stats') {
        slots[i].lastStats = m.snap;
        out.push(m.snap);
      } else if (slots[i].worker) return `worker ${slots[i].index} did not send its stats`;
    }
    if (this.retired) out.push(this.retired);
    return out;
  }

  resetRetired(): void {
    if (this.retired) resetSnapshotCounters(this.retired);
    for (const s of this.slots) s.lastStats = null;
  }

  quit(): void {
    void this.stop(0);
  }

  /** Stops every worker (SIGTERM, SIGKILL after a grace period), closes admin; resolves with `code`. */
  async stop(code = 0): Promise<number> {
    if (!this.stopping) {
      this.stopping = true;
      this.exitCode = code;
      this.startup?.resolve(); // a signal during start-up: start() returns, `done` follows
      log.info(`stopping ${this.slots.filter((s) => s.worker).length} workers`);
      for (const s of this.slots) {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        s.restartTimer = null;
        const w = s.worker;
        if (!w) continue;
        w.process.kill('SIGTERM');
        setTimeout(() => {
          if (s.worker === w) w.process.kill('SIGKILL');
        }, STOP_GRACE_MS).unref();
      }
      if (this.slots.every((s) => s.worker === null)) void this.closeAndFinish();
    }
    return this.done;
  }

  private async closeAndFinish(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    if (a) await closeAdmin(a);
    this.finish(this.exitCode);
  }
}
