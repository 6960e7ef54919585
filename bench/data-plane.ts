// Data-plane benchmark: direct vs nginx vs HAProxy vs Mizzen's proxy on loopback, same backend, alternated rounds.
import { mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from './lib/backend.js';
import { topSelfTime, type ProfileEntry } from './lib/cpu-profile.js';
import { startHaproxy } from './lib/haproxy.js';
import {
  mizzenClusterRequests,
  mizzenProxyArgs,
  mizzenProxyHelp,
  startMizzenProxy,
} from './lib/mizzen-proxy.js';
import { startNginx } from './lib/nginx.js';
import { freePort, pinThisProcess, sleep, type Running } from './lib/proc.js';
import { sampleTree } from './lib/proc-stats.js';
import { measureRounds, type ScenarioResult, type Target } from './lib/rounds.js';
import { loadScenarios } from './lib/scenarios.js';
import { runWrk } from './lib/wrk.js';

export type { ScenarioResult, TargetFigures } from './lib/rounds.js';

/** Settings of one data-plane run. */
export interface DataPlaneOptions {
  /** Seconds per measured point. */
  seconds: number;
  /** Rounds; each round runs every target once, in the same order (A B C D A B C D ...). */
  rounds: number;
  /** Warm-up per target before the first round, seconds. */
  warmupSeconds: number;
  /** Fixed-rate load, requests/s. */
  fixedRate: number;
  /** Profile Mizzen's proxy during one extra wrk run. */
  profile: boolean;
  /** Scratch folder. */
  tmpDir: string;
  /** Also measure another build of Mizzen (its `bin/mizzen.js`) as the target "Mizzen baseline", or null. */
  baselineBin: string | null;
  /** Measure HAProxy too. */
  haproxy: boolean;
  /** Run the 2-worker part when `mizzen proxy` offers `--concurrency`. */
  multiCore: boolean;
  /**
   * Pin CPUs: the load generators and the backend on CPU 0, each proxy under test alone on CPU 1 (both
   * CPUs for the 2-worker part). Fewer scheduling effects between the processes on a 2-core machine.
   */
  pin: boolean;
  /** Progress lines. */
  log: (line: string) => void;
}

/** Everything the data-plane run measured. */
export interface DataPlaneResult {
  backend: Backend['info'];
  targets: string[];
  scenarios: ScenarioResult[];
  /** RSS of each proxy right after start, and after the runs when idle again, bytes. */
  idleRss: Record<string, { start: number; after: number }>;
  /** Mizzen's `--help`: whether it has a multi-core mode, and the c2 scenarios if so. */
  concurrency: { supported: boolean; scenarios: ScenarioResult[]; targets: string[] };
  /** Upstream requests per cluster at the end (proves the weighted split ran). */
  mizzenClusterRequests: Record<string, number>;
  /** Top self-time functions of Mizzen's proxy under wrk -c50. */
  profile: { file: string; totalMs: number; top: ProfileEntry[]; byArea: ProfileEntry[] } | null;
  /** Extra command lines (proxy, nginx, haproxy). */
  commands: string[];
  /** Whether CPUs were pinned (load and backend on CPU 0, the proxy under test on CPU 1). */
  pinned: boolean;
}

/** Starts nginx, HAProxy and Mizzen (with `workers` each) in front of the backend. */
async function startProxies(
  o: DataPlaneOptions,
  backendPort: number,
  workers: number,
  concurrencyFlag: boolean,
  all: Running[],
) {
  const dir = (name: string): string => {
    const d = join(o.tmpDir, `${name}-w${workers}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const started: Target[] = [];
  const commands: string[] = [];
  const cpus = o.pin ? (workers > 1 ? '0,1' : '1') : undefined;
  const nginx = {
    dir: dir('nginx'),
    port: await freePort(),
    h2Port: await freePort(),
    workers,
    upstreamPort: backendPort,
    cpus,
  };
  const nginxProc = await startNginx(nginx);
  all.push(nginxProc);
  started.push({
    name: workers > 1 ? `nginx ×${workers}` : 'nginx',
    port: nginx.port,
    h2Port: nginx.h2Port,
    proc: nginxProc,
  });
  commands.push(
    `nginx -p ${nginx.dir} -c ${nginx.dir}/nginx.conf   (worker_processes ${workers}, upstream keepalive 128)`,
  );
  if (o.haproxy) {
    const ha = {
      dir: dir('haproxy'),
      port: await freePort(),
      h2Port: await freePort(),
      threads: workers,
      upstreamPort: backendPort,
      cpus,
    };
    const haProc = await startHaproxy(ha);
    all.push(haProc);
    started.push({
      name: workers > 1 ? `HAProxy ×${workers}` : 'HAProxy',
      port: ha.port,
      h2Port: ha.h2Port,
      proc: haProc,
    });
    commands.push(`haproxy -db -f ${ha.dir}/haproxy.cfg   (nbthread ${workers}, http-reuse always)`);
  }
  const mz = {
    dir: dir('mizzen'),
    port: await freePort(),
    adminPort: await freePort(),
    upstreamPort: backendPort,
    concurrency: concurrencyFlag ? workers : undefined,
    cpus,
  };
  const proc = await startMizzenProxy(mz);
  all.push(proc);
  started.push({ name: workers > 1 ? `Mizzen ×${workers}` : 'Mizzen', port: mz.port, h2Port: mz.port, proc });
  commands.push(`node ${mizzenProxyArgs(mz).join(' ')}`);
  if (o.baselineBin !== null && workers === 1) {
    const base = {
      dir: dir('mizzen-baseline'),
      port: await freePort(),
      adminPort: await freePort(),
      upstreamPort: backendPort,
      bin: o.baselineBin,
      cpus,
    };
    const bp = await startMizzenProxy(base);
    all.push(bp);
    started.push({ name: 'Mizzen baseline', port: base.port, h2Port: base.port, proc: bp });
    commands.push(`node ${mizzenProxyArgs(base).join(' ')}`);
  }
  return { targets: started, commands, mizzenAdmin: mz.adminPort };
}

/** Runs the data-plane benchmark; stops everything it started, also on failure. */
export async function runDataPlane(o: DataPlaneOptions): Promise<DataPlaneResult> {
  const all: Running[] = [];
  if (o.pin) {
    if (availableParallelism() < 2) throw new Error('--pin needs at least 2 CPUs');
    pinThisProcess('0');
  }
  try {
    const backend = await startBackend(o.tmpDir, o.warmupSeconds, o.log);
    all.push(backend.proc);
    const direct: Target = { name: 'direct', port: backend.port, h2Port: backend.h2Port, proc: null };
    const one = await startProxies(o, backend.port, 1, false, all);
    const idleRss: DataPlaneResult['idleRss'] = {};
    for (const t of one.targets) idleRss[t.name] = { start: sampleTree(t.proc!.pid).rssBytes, after: NaN };
    const targets = [direct, ...one.targets];
    const list = loadScenarios(o);
    const results = await measureRounds(o, targets, list);
    await sleep(2000);
    for (const t of one.targets) idleRss[t.name].after = sampleTree(t.proc!.pid).rssBytes;
    const split = await mizzenClusterRequests(one.mizzenAdmin).catch(() => ({}));

    const help = await mizzenProxyHelp();
    const concurrency: DataPlaneResult['concurrency'] = {
      supported: help.concurrency,
      scenarios: [],
      targets: [],
    };
    if (help.concurrency && o.multiCore) {
      o.log('data plane: multi-core mode: nginx ×2, HAProxy ×2, Mizzen --concurrency 2');
      const two = await startProxies(o, backend.port, 2, true, all);
      concurrency.targets = ['direct', ...two.targets.map((t) => t.name)];
      concurrency.scenarios = await measureRounds(o, [direct, ...two.targets], list.slice(0, 3));
      one.commands.push(...two.commands);
      for (const t of two.targets) await t.proc!.stop();
    } else if (!o.multiCore) {
      o.log('data plane: --no-multi-core: no multi-core run');
    } else {
      o.log('data plane: `mizzen proxy --help` shows no --concurrency flag: no multi-core run');
    }
    for (const t of one.targets) await t.proc!.stop();
    const profile = o.profile ? await profileMizzen(o, backend.port) : null;
    return {
      backend: backend.info,
      targets: targets.map((t) => t.name),
      scenarios: results,
      idleRss,
      concurrency,
      mizzenClusterRequests: split,
      profile,
      commands: [...backend.commands, ...one.commands],
      pinned: o.pin,
    };
  } finally {
    for (const p of all) await p.stop();
  }
}

/** Runs wrk -c50 through a Mizzen proxy started with --cpu-prof and ranks its functions by self time. */
async function profileMizzen(o: DataPlaneOptions, backendPort: number): Promise<DataPlaneResult['profile']> {
  const dir = join(o.tmpDir, 'mizzen-profile');
  mkdirSync(dir, { recursive: true });
  const mz = {
    dir,
    port: await freePort(),
    adminPort: await freePort(),
    upstreamPort: backendPort,
    cpuProfDir: dir,
    cpus: o.pin ? '1' : undefined,
  };
  o.log(`data plane: profiling Mizzen (node --cpu-prof) under wrk -c50 for ${o.seconds} s`);
  const spawnAt = Date.now();
  const proc = await startMizzenProxy(mz);
  const url = `http://127.0.0.1:${mz.port}/1k`;
  let window = { fromMs: 0, toMs: Infinity };
  try {
    await runWrk({ url, connections: 50, seconds: o.warmupSeconds, tmpDir: o.tmpDir });
    const from = Date.now() - spawnAt;
    await runWrk({ url, connections: 50, seconds: o.seconds, tmpDir: o.tmpDir });
    window = { fromMs: from, toMs: Date.now() - spawnAt };
  } finally {
    await proc.stop(15000);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    o.log('data plane: the proxy wrote no .cpuprofile (did it exit cleanly on SIGTERM?)');
    return null;
  }
  const { total, top, byArea } = topSelfTime(join(dir, file), 20, window);
  return { file: join(dir, file), totalMs: total, top, byArea };
}
