// Data-plane benchmark: direct vs nginx vs HAProxy vs Mizzen's proxy on loopback, same backend, alternated rounds.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBackend, type Backend } from './lib/backend.js';
import { topSelfTime, type ProfileEntry } from './lib/cpu-profile.js';
import { runH2load, h2loadArgs } from './lib/h2load.js';
import { startHaproxy } from './lib/haproxy.js';
import type { LoadResult } from './lib/load-result.js';
import {
  mizzenClusterRequests,
  mizzenProxyHelp,
  startMizzenProxy,
  mizzenProxyArgs,
} from './lib/mizzen-proxy.js';
import { startNginx } from './lib/nginx.js';
import { runOpenLoop } from './lib/open-loop.js';
import { freePort, sleep, type Running } from './lib/proc.js';
import { sampleTree, watchPeakRss } from './lib/proc-stats.js';
import { median } from './lib/stats.js';
import { runWrk, wrkArgs } from './lib/wrk.js';

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
  /** Progress lines. */
  log: (line: string) => void;
}

/** A system under test. */
interface Target {
  name: string;
  /** HTTP/1.1 port. */
  port: number;
  /** h2c port, or 0 when the target has no HTTP/2 front. */
  h2Port: number;
  /** Process whose tree is measured (null for direct: nothing between client and backend). */
  proc: Running | null;
}

/** Medians over the rounds of one target in one scenario. */
export interface TargetFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  /** CPU-seconds of the proxy per 1000 requests (NaN for direct). */
  cpuPer1k: number;
  /** Peak RSS of the proxy during the runs, bytes. */
  peakRss: number;
  /** Every round's raw result. */
  rounds: LoadResult[];
  /** Set when the target could not run this scenario. */
  failure?: string;
}

/** One load shape (e.g. wrk with 50 connections) across all targets. */
export interface ScenarioResult {
  name: string;
  /** The command, with TARGET_URL standing for each target's URL. */
  command: string;
  byTarget: Record<string, TargetFigures>;
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
  profile: { file: string; totalMs: number; top: ProfileEntry[] } | null;
  /** Extra command lines (proxy, nginx, haproxy). */
  commands: string[];
}

type Runner = (url: string, seconds: number) => Promise<LoadResult>;

interface Scenario {
  name: string;
  command: string;
  http2: boolean;
  run: Runner;
}

function scenarios(o: DataPlaneOptions): Scenario[] {
  const wrk = (c: number): Scenario => ({
    name: `HTTP/1.1 wrk, ${c} connections`,
    command: `wrk ${wrkArgs({ url: 'TARGET_URL', connections: c, seconds: o.seconds, tmpDir: o.tmpDir }).join(' ')}`,
    http2: false,
    run: (url, seconds) => runWrk({ url, connections: c, seconds, tmpDir: o.tmpDir }),
  });
  const h2 = {
    name: 'HTTP/2 h2load, 10 connections × 10 streams',
    command: `h2load ${h2loadArgs({ url: 'TARGET_URL', clients: 10, streams: 10, seconds: o.seconds, tmpDir: o.tmpDir }).join(' ')}`,
    http2: true,
    run: (url: string, seconds: number) =>
      runH2load({ url, clients: 10, streams: 10, seconds, tmpDir: o.tmpDir }),
  };
  const fixed = {
    name: `fixed rate ${o.fixedRate} req/s (open loop, HTTP/1.1)`,
    command: `open-loop generator (bench/lib/open-loop.ts): ${o.fixedRate} req/s for ${o.seconds} s, ≤ 64 keep-alive connections, TARGET_URL`,
    http2: false,
    run: (url: string, seconds: number) => runOpenLoop({ url, rate: o.fixedRate, seconds }),
  };
  return [wrk(10), wrk(50), h2, fixed];
}

/** Runs every scenario over the targets in alternating rounds. */
async function measure(o: DataPlaneOptions, targets: Target[], list: Scenario[]): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const sc of list) {
    o.log(`data plane: ${sc.name}: warm-up ${o.warmupSeconds} s per target`);
    const raw = new Map<string, { rounds: LoadResult[]; cpu: number[]; peak: number; failure?: string }>();
    for (const t of targets) {
      raw.set(t.name, { rounds: [], cpu: [], peak: 0 });
      const url = urlOf(t, sc.http2);
      if (!url) raw.get(t.name)!.failure = 'no HTTP/2 front';
      else await sc.run(url, o.warmupSeconds).catch((e: Error) => (raw.get(t.name)!.failure = firstLine(e)));
    }
    for (let round = 1; round <= o.rounds; round++) {
      for (const t of targets) {
        const r = raw.get(t.name)!;
        const url = urlOf(t, sc.http2);
        if (!url || r.failure) continue;
        const before = t.proc ? sampleTree(t.proc.pid) : null;
        const peak = t.proc ? watchPeakRss(t.proc.pid) : null;
        try {
          const res = await sc.run(url, o.seconds);
          r.rounds.push(res);
          if (before && t.proc)
            r.cpu.push(((sampleTree(t.proc.pid).cpuSeconds - before.cpuSeconds) * 1000) / res.requests);
          o.log(
            `  round ${round} ${t.name}: ${res.rps.toFixed(0)} req/s p50 ${res.p50.toFixed(2)} ms p99 ${res.p99.toFixed(2)} ms`,
          );
        } catch (e) {
          r.failure = firstLine(e as Error);
          o.log(`  round ${round} ${t.name}: failed: ${r.failure}`);
        }
        if (peak) r.peak = Math.max(r.peak, peak.stop());
        await sleep(500);
      }
    }
    const byTarget: Record<string, TargetFigures> = {};
    for (const [name, r] of raw) {
      const pick = (f: (x: LoadResult) => number): number => median(r.rounds.map(f));
      byTarget[name] = {
        rps: pick((x) => x.rps),
        p50: pick((x) => x.p50),
        p90: pick((x) => x.p90),
        p99: pick((x) => x.p99),
        errors: r.rounds.reduce((a, x) => a + x.errors, 0),
        cpuPer1k: median(r.cpu),
        peakRss: r.peak,
        rounds: r.rounds,
        failure: r.failure,
      };
    }
    out.push({ name: sc.name, command: sc.command, byTarget });
  }
  return out;
}

function urlOf(t: Target, http2: boolean): string | null {
  const port = http2 ? t.h2Port : t.port;
  return port ? `http://127.0.0.1:${port}/1k` : null;
}

function firstLine(e: Error): string {
  return (e.message.split('\n')[0] ?? '').slice(0, 200);
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
  const nginx = {
    dir: dir('nginx'),
    port: await freePort(),
    h2Port: await freePort(),
    workers,
    upstreamPort: backendPort,
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
  const ha = {
    dir: dir('haproxy'),
    port: await freePort(),
    h2Port: await freePort(),
    threads: workers,
    upstreamPort: backendPort,
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
  const mz = {
    dir: dir('mizzen'),
    port: await freePort(),
    adminPort: await freePort(),
    upstreamPort: backendPort,
    concurrency: concurrencyFlag ? workers : undefined,
  };
  const proc = await startMizzenProxy(mz);
  all.push(proc);
  started.push({ name: workers > 1 ? `Mizzen ×${workers}` : 'Mizzen', port: mz.port, h2Port: mz.port, proc });
  commands.push(`node ${mizzenProxyArgs(mz).join(' ')}`);
  return { targets: started, commands, mizzenAdmin: mz.adminPort };
}

/** Runs the data-plane benchmark; stops everything it started, also on failure. */
export async function runDataPlane(o: DataPlaneOptions): Promise<DataPlaneResult> {
  const all: Running[] = [];
  try {
    const backend = await startBackend(o.tmpDir, o.warmupSeconds, o.log);
    all.push(backend.proc);
    const direct: Target = { name: 'direct', port: backend.port, h2Port: backend.h2Port, proc: null };
    const one = await startProxies(o, backend.port, 1, false, all);
    const idleRss: DataPlaneResult['idleRss'] = {};
    for (const t of one.targets) idleRss[t.name] = { start: sampleTree(t.proc!.pid).rssBytes, after: NaN };
    const targets = [direct, ...one.targets];
    const list = scenarios(o);
    const results = await measure(o, targets, list);
    await sleep(2000);
    for (const t of one.targets) idleRss[t.name].after = sampleTree(t.proc!.pid).rssBytes;
    const split = await mizzenClusterRequests(one.mizzenAdmin).catch(() => ({}));

    const help = await mizzenProxyHelp();
    const concurrency: DataPlaneResult['concurrency'] = {
      supported: help.concurrency,
      scenarios: [],
      targets: [],
    };
    if (help.concurrency) {
      o.log('data plane: multi-core mode: nginx ×2, HAProxy ×2, Mizzen --concurrency 2');
      const two = await startProxies(o, backend.port, 2, true, all);
      concurrency.targets = ['direct', ...two.targets.map((t) => t.name)];
      concurrency.scenarios = await measure(o, [direct, ...two.targets], list.slice(0, 3));
      one.commands.push(...two.commands);
      for (const t of two.targets) await t.proc!.stop();
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
  const { total, top } = topSelfTime(join(dir, file), 20, window);
  return { file: join(dir, file), totalMs: total, top };
}
