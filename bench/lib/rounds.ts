// Alternated rounds: every load shape runs against every target in turn (A B C D A B C D ...), with the
// proxy's CPU and peak RSS read from /proc around each run; medians over the rounds.
import type { LoadResult } from './load-result.js';
import { sleep, type Running } from './proc.js';
import { sampleTree, watchPeakRss } from './proc-stats.js';
import { median } from './stats.js';

/** A system under test. */
export interface Target {
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

/** Runs one load against a URL for some seconds. */
export type Runner = (url: string, seconds: number) => Promise<LoadResult>;

/** One load shape. */
export interface Scenario {
  name: string;
  command: string;
  http2: boolean;
  run: Runner;
}

/** How long and with what to warm up and measure. */
export interface RoundsOptions {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

/** Runs every scenario over the targets in alternating rounds. */
export async function measureRounds(
  o: RoundsOptions,
  targets: Target[],
  list: Scenario[],
): Promise<ScenarioResult[]> {
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
