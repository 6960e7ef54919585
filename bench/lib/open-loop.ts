// An open-loop HTTP/1.1 load generator: sends at a fixed rate whatever the replies do, and measures each
// latency from the request's scheduled start (so queueing behind a slow reply counts, as in wrk2).
import { Agent, request } from 'node:http';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './load-result.js';

/** One fixed-rate run. */
export interface OpenLoopOptions {
  /** Target URL. */
  url: string;
  /** Requests per second. */
  rate: number;
  /** Duration, seconds. */
  seconds: number;
  /** Most keep-alive connections used (a request waits for a free one); default 64. */
  connections?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** Sends `rate` requests per second for `seconds` and resolves when every reply arrived (or failed). */
export function runOpenLoop(o: OpenLoopOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections ?? 64 });
  const hist = new LatencyHistogram();
  const total = Math.round(o.rate * o.seconds);
  const intervalMs = 1000 / o.rate;
  const reqOpts = {
    agent,
    host: url.hostname,
    port: Number(url.port || 80),
    path: url.pathname + url.search,
    headers: o.headers ?? {},
  };
  let sent = 0;
  let finished = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const start = performance.now();
    // Replies still missing 15 s after the last send count as errors.
    const giveUp = setTimeout(
      () => {
        errors += total - finished;
        finished = total - 1;
        finish();
      },
      (o.seconds + 15) * 1000,
    );
    const finish = (): void => {
      finished++;
      if (finished !== total) return;
      clearTimeout(giveUp);
      agent.destroy();
      const seconds = (performance.now() - start) / 1000;
      resolve({
        tool: 'open-loop',
        requests: total - errors,
        errors,
        seconds,
        rps: (total - errors) / seconds,
        p50: hist.percentile(50) / 1000,
        p90: hist.percentile(90) / 1000,
        p99: hist.percentile(99) / 1000,
        max: hist.max / 1000,
      });
    };
    const send = (scheduled: number): void => {
      let done = false;
      const end = (ok: boolean): void => {
        if (done) return;
        done = true;
        if (ok) hist.record((performance.now() - scheduled) * 1000);
        else errors++;
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
      while (sent < due) {
        send(start + sent * intervalMs);
        sent++;
      }
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}
