// Runs h2load (HTTP/2 over cleartext with prior knowledge) and computes latency percentiles from its per-request log.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './load-result.js';
import { runProcess } from './proc.js';

/** One h2load run. */
export interface H2loadOptions {
  /** Target URL (http://, spoken as h2c). */
  url: string;
  /** Connections (h2load -c). */
  clients: number;
  /** Concurrent streams per connection (h2load -m); default 1. */
  streams?: number;
  /** Measured duration, seconds (h2load -D). */
  seconds: number;
  /** Warm-up before measuring, seconds (h2load --warm-up-time); default 0. */
  warmupSeconds?: number;
  /** Requests per second per client (h2load --rps); absent = as fast as possible. */
  rpsPerClient?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Folder for the per-request log. */
  tmpDir: string;
}

/** The exact h2load command line for a run (for the report). */
export function h2loadArgs(o: H2loadOptions): string[] {
  const args = ['-t', '1', '-c', String(o.clients), '-m', String(o.streams ?? 1), '-D', String(o.seconds)];
  if (o.warmupSeconds) args.push(`--warm-up-time=${o.warmupSeconds}`);
  if (o.rpsPerClient) args.push(`--rps=${o.rpsPerClient}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(`--log-file=${join(o.tmpDir, 'h2load.log')}`, o.url);
  return args;
}

/** Runs h2load and returns its figures (latencies in ms). */
export async function runH2load(o: H2loadOptions): Promise<LoadResult> {
  const logFile = join(o.tmpDir, 'h2load.log');
  rmSync(logFile, { force: true });
  const r = await runProcess('h2load', h2loadArgs(o));
  const fin = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s/.exec(r.stdout);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(
    r.stdout,
  );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(r.stdout);
  if (r.code !== 0 || !fin || !req) throw new Error(`h2load failed (${r.code}): ${r.stdout}${r.stderr}`);
  const hist = new LatencyHistogram();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 3) hist.record(Number(cols[2]));
  }
  rmSync(logFile, { force: true });
  const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
  const done = Number(req[3]);
  const bad = codes ? Number(codes[3]) + Number(codes[4]) : 0;
  return {
    tool: 'h2load',
    requests: done,
    errors: Math.max(Number(req[5]), bad),
    seconds,
    rps: Number(fin[3]),
    p50: hist.percentile(50) / 1000,
    p90: hist.percentile(90) / 1000,
    p99: hist.percentile(99) / 1000,
    max: hist.max / 1000,
  };
}
