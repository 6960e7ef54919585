// The simulated proxies of the control-plane benchmark: worker processes, each holding a share of the
// ADS clients, reporting sync and arrival times over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromWorker, ToWorker } from '../ads-sim-worker.js';
import type { SimNode, Watch, XdsMode } from './ads-sim.js';
import { benchDist } from './paths.js';
import { cpuOf, sampleTree } from './proc-stats.js';

/** Forks the workers; {@link start} hands them clients, {@link watch} a marker to look for. */
export class Fleet {
  /** client index → [sync time (wall-clock ms), bytes received]. */
  readonly synced = new Map<number, [number, number]>();
  /** watch id → client index → arrival time (wall-clock ms). */
  readonly arrived = new Map<number, Map<number, number>>();
  /** client index → error message, for streams that ended with an error. */
  readonly failed = new Map<number, string>();
  /** Workers that have loaded their protos. */
  ready = 0;
  private readonly workers: ChildProcess[] = [];
  private nextWatch = 1;
  /** watch id → workers yet to confirm it, and who waits for them. */
  private readonly confirming = new Map<number, { left: number; done: () => void }>();

  /**
   * Forks `count` worker processes whose clients speak `mode`; with `mizzenProxies` they are real Mizzen
   * proxies (delta), whose compiled config needs a larger heap than a simulated client's bytes.
   */
  constructor(
    count: number,
    private readonly mode: XdsMode = 'delta',
    private readonly mizzenProxies = false,
    /** Simulated delta clients ask for VHDS. */
    private readonly vhds = true,
  ) {
    for (let w = 0; w < count; w++) {
      const child = fork(join(benchDist, 'ads-sim-worker.js'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [
          ...process.execArgv,
          ...(mizzenProxies ? ['--max-old-space-size=16384'] : []),
          // MIZZEN_BENCH_CLIENT_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the clients.
          ...(process.env.MIZZEN_BENCH_CLIENT_NODE_ARGS ?? '').split(' ').filter(Boolean),
        ],
      });
      child.on('message', (m: FromWorker) => this.onEvents(m));
      this.workers.push(child);
    }
  }

  /** Starts clients `offset`.. with these identities, spread over the workers in contiguous chunks. */
  start(server: string, nodes: SimNode[], offset: number): void {
    const per = Math.ceil(nodes.length / this.workers.length);
    this.workers.forEach((w, k) => {
      const chunk = nodes.slice(k * per, (k + 1) * per);
      if (chunk.length === 0) return;
      const msg: ToWorker = {
        type: 'start',
        server,
        first: offset + k * per,
        nodes: chunk,
        spreadMs: 0,
        mode: this.mode,
        mizzenProxies: this.mizzenProxies,
        vhds: this.vhds,
      };
      w.send(msg);
    });
  }

  /**
   * Makes every client report when `marker` first appears in a response of `typeUrl`; resolves with the
   * watch id once every worker has it (a change made before that could arrive unseen and never count).
   */
  async watch(typeUrl: string, marker: string): Promise<number> {
    const watch: Watch = { id: this.nextWatch++, typeUrl, marker };
    this.arrived.set(watch.id, new Map());
    await new Promise<void>((done) => {
      this.confirming.set(watch.id, { left: this.workers.length, done });
      for (const w of this.workers) w.send({ type: 'watch', watch } satisfies ToWorker);
    });
    return watch.id;
  }

  /** CPU-seconds used so far by all worker processes. */
  cpuSeconds(): number {
    return this.workers.reduce((a, w) => a + (w.pid ? cpuOf(w.pid) : 0), 0);
  }

  /** Resident memory of all worker processes now, bytes. */
  rssBytes(): number {
    return this.workers.reduce((a, w) => a + (w.pid ? sampleTree(w.pid).rssBytes : 0), 0);
  }

  /** Closes the clients and ends the workers. */
  stop(): void {
    for (const w of this.workers) {
      if (w.connected) w.send({ type: 'stop' } satisfies ToWorker);
      setTimeout(() => w.kill('SIGKILL'), 2000).unref();
    }
  }

  private onEvents(m: FromWorker): void {
    if (m.type === 'ready') {
      this.ready++;
      return;
    }
    if (m.type === 'watching') {
      const c = this.confirming.get(m.id);
      if (c && --c.left === 0) {
        this.confirming.delete(m.id);
        c.done();
      }
      return;
    }
    for (const [c, at, bytes] of m.synced) this.synced.set(c, [at, bytes]);
    for (const [w, c, at] of m.arrived) this.arrived.get(w)?.set(c, at);
    for (const [c, message] of m.failed ?? []) this.failed.set(c, message);
  }
}
