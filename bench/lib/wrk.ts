// Runs wrk (HTTP/1.1, closed loop) and reads its summary and latency percentiles through a Lua `done` hook.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load-result.js';
import { runProcess } from './proc.js';

/** One wrk run. */
export interface WrkOptions {
  /** Target URL. */
  url: string;
  /** Open connections (wrk -c). */
  connections: number;
  /** Threads (wrk -t); default 1, so wrk takes one of the machine's cores. */
  threads?: number;
  /** Duration, seconds. */
  seconds: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Folder for the Lua script. */
  tmpDir: string;
}

const SCRIPT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"status":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
`;

/** The exact wrk command line for a run (for the report). */
export function wrkArgs(o: WrkOptions): string[] {
  const args = ['-t', String(o.threads ?? 1), '-c', String(o.connections), '-d', `${o.seconds}s`];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push('-s', join(o.tmpDir, 'wrk-report.lua'), o.url);
  return args;
}

/** Runs wrk and returns its figures (latencies in ms). */
export async function runWrk(o: WrkOptions): Promise<LoadResult> {
  writeFileSync(join(o.tmpDir, 'wrk-report.lua'), SCRIPT);
  const r = await runProcess('wrk', wrkArgs(o));
  const line = /^WRKJSON (.*)$/m.exec(r.stdout);
  if (r.code !== 0 || !line) throw new Error(`wrk failed (${r.code}): ${r.stdout}${r.stderr}`);
  const j = JSON.parse(line[1]) as Record<string, number>;
  const seconds = j.duration_us / 1e6;
  return {
    tool: 'wrk',
    requests: j.requests,
    errors: j.errors + j.status,
    seconds,
    rps: j.requests / seconds,
    p50: j.p50 / 1000,
    p90: j.p90 / 1000,
    p99: j.p99 / 1000,
    max: j.max / 1000,
  };
}
