// An open-loop HTTP/1.1 load generator: sends at a fixed rate whatever the replies do, and measures each
// latency from the request's scheduled start (so queueing behind a slow reply counts, as in wrk2).
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './load-result.js';

/** One fixed-rate run. */
export interface OpenLoopOptions {
  /** Target URL. */
  url: string;
  /** Requests per second. */
  rate: number;
  /** Measured duration, seconds (after the warm-up). */
  seconds: number;
  /** Most keep-alive connections used (a request waits for a free one); default 64. */
  connections?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Seconds of load at the same rate before the measured part, reported apart in `warmup` (a cold
   * target's JIT, pools and heap sizing); default 0.
   */
  warmupSeconds?: number;
  /** Width of the latency-over-time windows in `windows`, seconds; default 60. */
  windowSeconds?: number;
}

/** Latency of the requests scheduled in one time window of the measured part. */
export interface LatencyWindow {
  /** Window start, seconds since the measured part started (by scheduled send time). */
  t: number;
  /** Requests answered with a status below 400. */
  requests: number;
  /** Requests that failed (socket error, status ≥ 400, no reply). */
  errors: number;
  /** Latency percentiles and largest latency, milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /**
   * Longest event-loop delay of the generator itself while it sent this window's requests, ms: a large
   * value means the generator (not the target) stalled and sent late.
   */
  generatorDelayMax: number;
}

/** A fixed-rate run: the measured part, the warm-up apart, and latency over time. */
export interface OpenLoopResult extends LoadResult {
  /** The warm-up's requests (not in the figures above) and the generator's delay then, or null without one. */
  warmup: (LoadResult & { generatorDelayMax: number }) | null;
  /** Latency per `windowSeconds` of the measured part (the warm-up is in `warmup`). */
  windows: LatencyWindow[];
  /**
   * Slowest latency of the requests scheduled in each second of the whole run (warm-up first),
   * milliseconds (0: none answered).
   */
  secondMax: number[];
}

/** Per-phase tallies of one run (warm-up or measured). */
class Phase {
  readonly hist = new LatencyHistogram();
  errors = 0;
  /** performance.now() of the last reply or failure in this phase. */
  lastEnd = 0;
  /** Generator event-loop delay while sending this phase's requests, ms. */
  generatorDelayMax = 0;
}

function summary(p: Phase, startMs: number): LoadResult {
  const seconds = Math.max(0.001, (p.lastEnd - startMs) / 1000);
  return {
    tool: 'open-loop',
    requests: p.hist.count,
    errors: p.errors,
    seconds,
    rps: p.hist.count / seconds,
    p50: p.hist.percentile(50) / 1000,
    p90: p.hist.percentile(90) / 1000,
    p99: p.hist.percentile(99) / 1000,
    max: p.hist.max / 1000,
  };
}

/** Sends `rate` requests per second for warm-up + `seconds`; resolves to the measured part's figures. */
export async function runOpenLoop(o: OpenLoopOptions): Promise<LoadResult> {
  const r = await runOpenLoopDetailed(o);
  return {
    tool: r.tool,
    requests: r.requests,
    errors: r.errors,
    seconds: r.seconds,
    rps: r.rps,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    max: r.max,
  };
}

/**
 * Sends `rate` requests per second for warm-up + `seconds` and resolves when every reply arrived (or
 * failed), with the warm-up apart and latency over time.
 */
export function runOpenLoopDetailed(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections ?? 64 });
  const warmupSeconds = o.warmupSeconds ?? 0;
  const windowSeconds = o.windowSeconds ?? 60;
  const totalSeconds = warmupSeconds + o.seconds;
  const total = Math.round(o.rate * totalSeconds);
  const warmupTotal = Math.round(o.rate * warmupSeconds);
  const intervalMs = 1000 / o.rate;
  const perWindow = Math.max(1, Math.round(o.rate * windowSeconds));
  const windowHists = Array.from({ length: Math.ceil((total - warmupTotal) / perWindow) }, () => new Phase());
  const secondMax = new Float64Array(Math.ceil(totalSeconds));
  const warm = new Phase();
  const main = new Phase();
  const reqOpts = {
    agent,
    host: url.hostname,
    port: Number(url.port || 80),
    path: url.pathname + url.search,
    headers: o.headers ?? {},
  };
  let sent = 0;
  let finished = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let delayWindow = -1;
  /** Closes the generator-delay reading of the window that request `i` was sent in. */
  const noteDelay = (i: number): void => {
    const w = i < warmupTotal ? -1 : Math.floor((i - warmupTotal) / perWindow);
    if (w === delayWindow) return;
    const closing = delayWindow < 0 ? warm : windowHists[delayWindow];
    if (closing !== undefined) closing.generatorDelayMax = loopDelay.max / 1e6;
    loopDelay.reset();
    delayWindow = w;
  };
  loopDelay.enable();
  return new Promise((resolve) => {
    const start = performance.now();
    // Replies still missing 15 s after the last send count as errors.
    const giveUp = setTimeout(
      () => {
        const missing = total - finished;
        main.errors += missing;
        main.lastEnd = performance.now();
        finished = total - 1;
        finish();
      },
      (totalSeconds + 15) * 1000,
    );
    const finish = (): void => {
      finished++;
      if (finished !== total) return;
      clearTimeout(giveUp);
      agent.destroy();
      loopDelay.disable();
      const windows = windowHists.map((w, i): LatencyWindow => ({
        t: i * windowSeconds,
        requests: w.hist.count,
        errors: w.errors,
        p50: w.hist.percentile(50) / 1000,
        p99: w.hist.percentile(99) / 1000,
        max: w.hist.max / 1000,
        generatorDelayMax: w.generatorDelayMax,
      }));
      resolve({
        ...summary(main, start + warmupTotal * intervalMs),
        warmup:
          warmupTotal > 0 ? { ...summary(warm, start), generatorDelayMax: warm.generatorDelayMax } : null,
        windows,
        secondMax: Array.from(secondMax, (us) => us / 1000),
      });
    };
    const send = (i: number): void => {
      const scheduled = start + i * intervalMs;
      const phase = i < warmupTotal ? warm : main;
      const window = i < warmupTotal ? null : windowHists[Math.floor((i - warmupTotal) / perWindow)];
      const second = Math.floor((i * intervalMs) / 1000);
      let done = false;
      const end = (ok: boolean): void => {
        if (done) return;
        done = true;
        const now = performance.now();
        phase.lastEnd = now;
        if (ok) {
          const us = (now - scheduled) * 1000;
          phase.hist.record(us);
          if (window !== null) window.hist.record(us);
          if (us > secondMax[second]) secondMax[second] = us;
        } else {
          phase.errors++;
          if (window !== null) window.errors++;
        }
        finish();
      };
      const req = request(reqOpts, (res) => {
        const ok = res.statusCode !== undefined && res.statusCode < 400;
        res.on('end', () => end(ok));
        res.on('error', () => end(false));
        res.resume();
      });
      req.on('error', () => end(false));
      req.end();
    };
    // A coarse 1 ms tick sends every request whose scheduled time has come; each keeps its scheduled time.
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) send(sent++);
      noteDelay(sent);
      if (sent >= total) {
        noteDelay(total + perWindow);
        clearInterval(timer);
      }
    }, 1);
  });
}
