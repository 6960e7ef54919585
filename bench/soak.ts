// Soak: steady fixed-rate load through Mizzen's proxy for N minutes after a warm-up, RSS sampled every 10 s
// with a verdict on whether memory stays flat (least-squares slope), and latency per minute and per second.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureTools } from './lib/install.js';
import { machineFacts } from './lib/machine.js';
import { startMizzenProxy, mizzenProxyArgs } from './lib/mizzen-proxy.js';
import { startNginx } from './lib/nginx.js';
import { runOpenLoopDetailed, type OpenLoopResult } from './lib/open-loop.js';
import type { ProbeLine } from './lib/loop-probe.js';
import { benchDist, repoRoot, resultsDir } from './lib/paths.js';
import { freePort, stopAll, type Running } from './lib/proc.js';
import { sampleTree } from './lib/proc-stats.js';
import { fmt, linearFit, mib } from './lib/stats.js';

const SAMPLE_MS = 10_000;
/** A second whose slowest request took longer than this (ms) counts as a stall in the report. */
const STALL_MS = 100;

/** One RSS reading. */
interface Sample {
  /** Seconds since the load started. */
  t: number;
  rss: number;
  cpuSeconds: number;
  /** 1-minute load average of the machine. */
  load: number;
  /** CPU pressure: % of the last 10 s some runnable task waited for a CPU (Linux PSI), NaN if unknown. */
  cpuPressure: number;
  /** Seconds the proxy's main thread (its event loop) spent runnable but waiting for a CPU, cumulative. */
  proxyWait: number;
  /** The same for this process's main thread (the load generator). */
  generatorWait: number;
}

/** Run-queue wait of a process's main thread so far, seconds (/proc/PID/schedstat), NaN if unknown. */
function runQueueWait(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Contention during [from, to] s of the samples: mean CPU pressure, and run-queue wait as a share of time. */
function contention(samples: Sample[], from: number, to: number): string {
  const near = (t: number): Sample =>
    samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), samples[0]);
  const a = near(from);
  const b = near(to);
  const inside = samples.filter((s) => s.t > a.t && s.t <= b.t);
  const pressure = inside.reduce((sum, s) => sum + s.cpuPressure, 0) / inside.length;
  const share = (f: (s: Sample) => number): string => `${fmt((100 * (f(b) - f(a))) / (b.t - a.t), 0)} %`;
  return `${fmt(pressure, 0)} % | ${share((s) => s.proxyWait)} / ${share((s) => s.generatorWait)}`;
}

/** Linux PSI `some avg10` of /proc/pressure/cpu, NaN where the kernel does not offer it. */
function cpuPressure(): number {
  try {
    const m = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The verdict: `flat` when the fitted line grows less than max(2 MiB, 5 % of the mean RSS) over the
 * window; `growing` when it grows more and the slope is clearly above zero (beyond 2 standard errors);
 * otherwise `inconclusive` (the GC sawtooth is larger than the trend over so short a window).
 */
function verdict(samples: Sample[], skipSeconds: number) {
  const used = samples.filter((s) => s.t >= skipSeconds);
  const fit = linearFit(
    used.map((s) => s.t / 60),
    used.map((s) => s.rss),
  );
  const minutes = used.length > 1 ? (used[used.length - 1].t - used[0].t) / 60 : 0;
  const growth = fit.slope * minutes;
  const mean = used.reduce((a, s) => a + s.rss, 0) / Math.max(1, used.length);
  const tolerance = Math.max(2 * 1048576, 0.05 * mean);
  const significant = fit.slope > 2 * fit.slopeStderr;
  const result = growth < tolerance ? 'flat' : significant ? 'growing' : 'inconclusive';
  return {
    slopePerMin: fit.slope,
    stderrPerMin: fit.slopeStderr,
    growth,
    tolerance,
    result,
    used: used.length,
    minutes,
  };
}

/** Why the report's first seconds are apart (or that they are not). */
function warmupNote(warmup: number): string {
  return warmup > 0
    ? ` The first ${warmup} s of load warm up the cold proxy (JIT, connections, heap sizing) and are reported apart, as the data-plane benchmark warms up each target before measuring.`
    : ' No warm-up: the measured figures include the cold proxy’s first seconds.';
}

/**
 * The report's latency-over-time section: warm-up and one row per minute, each with the machine's CPU
 * contention then, and the seconds that stalled.
 */
function latencyOverTime(load: OpenLoopResult, warmup: number, samples: Sample[]): string {
  const row = (
    label: string,
    r: { requests: number; errors: number; p50: number; p99: number; max: number; generatorDelayMax: number },
    from: number,
    to: number,
  ) =>
    `| ${label} | ${r.requests} | ${r.errors} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ${fmt(r.generatorDelayMax, 0)} | ${contention(samples, from, to)} |`;
  const rows = [
    ...(load.warmup ? [row(`warm-up (${warmup} s)`, load.warmup, 0, warmup)] : []),
    ...load.windows.map((w) => row(`minute ${w.t / 60 + 1}`, w, warmup + w.t, warmup + w.t + 60)),
  ];
  const stalls = load.secondMax
    .map((max, t) => ({ t, max }))
    .filter((s) => s.max > STALL_MS)
    .sort((a, b) => b.max - a.max);
  const worst = stalls
    .slice(0, 10)
    .map((s) => `${s.t} s: ${fmt(s.max, 0)} ms`)
    .join(', ');
  return `Latency over time (by scheduled send time; ms):

| window | requests | errors | p50 | p99 | max | generator loop delay max | CPU pressure | waited for a CPU: proxy / generator |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Seconds whose slowest request took over ${STALL_MS} ms: ${stalls.length} of ${load.secondMax.length}${stalls.length ? ` (seconds since the load started, warm-up included; worst first: ${worst})` : ''}.`;
}

/** The probe's lines (see bench/lib/loop-probe.ts), or [] when it wrote none. */
function readProbe(file: string): ProbeLine[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ProbeLine);
  } catch {
    return [];
  }
}

/** The proxy's event-loop delay and GC pauses after the warm-up, overall and per 10 s window. */
function loopReport(lines: ProbeLine[], warmup: number): string {
  if (lines.length === 0)
    return 'Proxy event loop: the probe wrote nothing (was the proxy started with it?).';
  // The last line was flushed by the final SIGUSR2: its since-reset figures cover warm-up end → load end.
  const all = lines[lines.length - 1].sinceReset;
  const windows = lines.filter((l) => l.t / 1000 > warmup + 1);
  const worst = [...windows].sort((a, b) => b.loop.max - a.loop.max).slice(0, 5);
  return `### The proxy's event loop and GC (after the warm-up)

Recorded inside the proxy by \`bench/lib/loop-probe.ts\` (\`perf_hooks.monitorEventLoopDelay\`, 10 ms resolution, so a
figure near 10 ms means "no delay beyond the sampling timer"; GC pauses from a \`gc\` PerformanceObserver).

| loop delay p50 | p90 | p99 | p99.9 | max | GC pauses | GC total | longest GC pause |
|---|---|---|---|---|---|---|---|
| ${fmt(all.p50, 2)} ms | ${fmt(all.p90, 2)} ms | ${fmt(all.p99, 2)} ms | ${fmt(all.p999, 2)} ms | ${fmt(all.max, 1)} ms | ${all.gcCount} | ${all.gcTotal} ms | ${fmt(all.gcMax, 1)} ms |

Worst 10 s windows by loop delay: ${worst.map((w) => `t=${Math.round(w.t / 1000)} s max ${fmt(w.loop.max, 1)} ms (p99 ${fmt(w.loop.p99, 1)}, GC max ${fmt(w.gc.max, 1)} ms)`).join('; ')}.`;
}

const HELP = `usage: node dist/bench/soak.js [flags]
  --minutes M       measured minutes of steady load                       [10]
  --rate R          requests per second (open loop)                       [1000]
  --warmup S        seconds of load before the measured part              [30]
  --baseline DIR    soak the Mizzen build in DIR instead (its bin/mizzen.js, built)
  --out FILE        the report (markdown); default bench/results/<date>-<host>-soak.md`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '30' },
      out: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const minutes = Number(values.minutes);
  const rate = Number(values.rate);
  const warmup = Number(values.warmup);
  const log = (line: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
  await ensureTools([{ command: 'nginx', pkg: 'nginx-light' }], log);
  const tmpDir = mkdtempSync(join(tmpdir(), 'mizzen-soak-'));
  const started: Running[] = [];
  const startedAt = new Date();
  const machine = await machineFacts(['nginx-light']);
  try {
    const be = { dir: join(tmpDir, 'backend'), port: await freePort(), h2Port: await freePort(), workers: 1 };
    mkdirSync(be.dir);
    started.push(await startNginx(be));
    const probeFile = join(tmpDir, 'loop-probe.jsonl');
    const mz = {
      dir: tmpDir,
      port: await freePort(),
      adminPort: await freePort(),
      upstreamPort: be.port,
      // --baseline DIR: soak another Mizzen build (its bin/mizzen.js) instead of this checkout's.
      bin: values.baseline ? join(resolve(values.baseline), 'bin', 'mizzen.js') : undefined,
      nodeArgs: ['--import', pathToFileURL(join(benchDist, 'lib', 'loop-probe.js')).href],
      env: { MIZZEN_LOOP_PROBE_FILE: probeFile },
    };
    const proxy = await startMizzenProxy(mz);
    started.push(proxy);
    const samples: Sample[] = [];
    const t0 = Date.now();
    const take = (): void => {
      const s = sampleTree(proxy.pid);
      samples.push({
        t: (Date.now() - t0) / 1000,
        rss: s.rssBytes,
        cpuSeconds: s.cpuSeconds,
        load: loadavg()[0],
        cpuPressure: cpuPressure(),
        proxyWait: runQueueWait(proxy.pid),
        generatorWait: runQueueWait('self'),
      });
      log(`t=${Math.round((Date.now() - t0) / 1000)} s RSS ${mib(s.rssBytes)}`);
    };
    log(`${rate} req/s through Mizzen for ${warmup} s warm-up + ${minutes} min (open loop), RSS every 10 s`);
    take();
    const timer = setInterval(take, SAMPLE_MS);
    // The proxy's loop-delay figures restart when the warm-up ends.
    const afterWarmup = setTimeout(() => process.kill(proxy.pid, 'SIGUSR2'), warmup * 1000);
    const load = await runOpenLoopDetailed({
      url: `http://127.0.0.1:${mz.port}/1k`,
      rate,
      seconds: minutes * 60,
      warmupSeconds: warmup,
      windowSeconds: 60,
    });
    clearInterval(timer);
    clearTimeout(afterWarmup);
    process.kill(proxy.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
    take();
    const probe = readProbe(probeFile);
    const loadAtEnd = loadavg()[0];
    // The first 10 % (at least 30 s and the warm-up) after the load starts: JIT, pools, heap sizing.
    const skip = Math.max(30, warmup, minutes * 6);
    const v = verdict(samples, skip);
    const line = `RSS slope ${fmt(v.slopePerMin / 1048576, 3)} ± ${fmt(v.stderrPerMin / 1048576, 3)} MiB/min over ${fmt(v.minutes, 1)} min after ${skip} s warm-up → growth ${mib(v.growth)} (tolerance ${mib(v.tolerance)}): ${v.result.toUpperCase()}`;
    log(line);
    const rows = samples
      .map(
        (s) =>
          `| ${Math.round(s.t)} | ${mib(s.rss)} | ${fmt(s.cpuSeconds, 1)} | ${fmt(s.load, 2)} | ${fmt(s.cpuPressure, 0)} % |`,
      )
      .join('\n');
    const report = `# Mizzen soak, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machine.host}

Machine: ${machine.cores} cores, ${machine.model}, Node ${machine.node}, Mizzen commit ${machine.commit}, load average at start ${fmt(machine.loadAtStart, 2)}, at end ${fmt(loadAtEnd, 2)} (others' benchmarks share the machine; the RSS table's last columns show the load and the CPU pressure: the share of time some runnable task waited for a CPU).

Command: \`node dist/bench/soak.js --minutes ${minutes} --rate ${rate} --warmup ${warmup}${values.baseline ? ` --baseline ${values.baseline}` : ''}\` — open-loop generator at ${rate} req/s (HTTP/1.1, ≤ 64 keep-alive connections; latency counted from each request's scheduled send time) → \`node ${relative(repoRoot, mizzenProxyArgs(mz).find((a) => a.endsWith('mizzen.js')) ?? 'bin/mizzen.js')} proxy --bootstrap …\` (the data-plane benchmark's bootstrap: header match, 80/20 weighted split, circuit breakers, outlier detection, stats) → nginx serving 1 KiB.${warmupNote(warmup)}

Load (${minutes} min after the warm-up): ${load.requests} requests, ${load.errors} errors, ${fmt(load.rps, 0)} req/s, latency p50 ${fmt(load.p50, 2)} ms, p99 ${fmt(load.p99, 2)} ms, max ${fmt(load.max, 1)} ms.

${latencyOverTime(load, warmup, samples)}

${loopReport(probe, warmup)}

"Generator loop delay max" is the load generator's own longest event-loop stall in that window (a stalled generator sends late, and the lateness counts as latency); "CPU pressure" the mean share of time some runnable task on the machine waited for a CPU (Linux PSI); "waited for a CPU" the share of the window the proxy's and the generator's main threads were runnable but not running (/proc/PID/schedstat).

**Memory: ${v.result}.** ${line}. The fitted line uses the ${v.used} samples after the warm-up; "flat" means its growth over that window is below max(2 MiB, 5 % of the mean RSS); "growing" means above that with the slope more than 2 standard errors above zero; otherwise "inconclusive".

| t (s) | RSS | proxy CPU-s | load avg | CPU pressure |
|---|---|---|---|---|
${rows}
`;
    mkdirSync(resultsDir, { recursive: true });
    const out =
      values.out ?? join(resultsDir, `${startedAt.toISOString().slice(0, 10)}-${hostname()}-soak.md`);
    writeFileSync(out, report);
    log(`report written to ${relative(repoRoot, out)}`);
    return v.result === 'growing' ? 1 : 0;
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
