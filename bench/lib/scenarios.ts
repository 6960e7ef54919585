// The load shapes of the data-plane benchmark: wrk with 10 and 50 connections, h2load over h2c, and a fixed
// rate from the open-loop generator.
import { h2loadArgs, runH2load } from './h2load.js';
import { runOpenLoop } from './open-loop.js';
import type { Scenario } from './rounds.js';
import { runWrk, wrkArgs } from './wrk.js';

/** Settings the load shapes need. */
export interface ScenarioOptions {
  /** Seconds per measured point (shown in the commands). */
  seconds: number;
  /** Fixed-rate load, requests/s. */
  fixedRate: number;
  /** Scratch folder (wrk's Lua script, h2load's log). */
  tmpDir: string;
}

/** The load shapes, in the order they run. */
export function loadScenarios(o: ScenarioOptions): Scenario[] {
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
