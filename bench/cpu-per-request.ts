// `node dist/bench/cpu-per-request.js --baseline DIR`: the proxy's CPU per request under wrk (or at a fixed
// rate with --rate), this build against other builds, in many short alternated rounds. The full data-plane
// benchmark measures each target for 10 s in 3 rounds; on a shared VM one slow stretch then decides a
// median. Here each round runs every build once, back to back, on the same nginx backend, and the report
// gives per-round ratios and their median, so a change of 5 % can be told from the machine's drift.
//
// Pinned like `npm run bench -- --pin`: the proxy under test alone on CPU 1; wrk, the backend and this
// process on CPU 0.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineFacts } from './lib/machine.js';
import { startMizzenProxy } from './lib/mizzen-proxy.js';
import { startNginx } from './lib/nginx.js';
import { mizzenBin } from './lib/paths.js';
import { freePort, pinThisProcess, stopAll } from './lib/proc.js';
import { cpuOf, rssOf, watchPeakRss } from './lib/proc-stats.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { runOpenLoop } from './lib/open-loop.js';
import type { LoadResult } from './lib/load-result.js';

const HELP = `usage: node dist/bench/cpu-per-request.js [flags]
  --baseline DIR    a Mizzen build to compare with (its bin/mizzen.js, built); repeatable
  --rounds N        rounds; every build runs once per round, the order alternating   [8]
  --seconds S       wrk duration per build and round                                  [8]
  --connections C   wrk -c                                                            [50]
  --rate R          instead of wrk, the open-loop generator at R req/s (≤ 64 keep-alive connections)
  --out FILE        also write the report (markdown) to FILE`;

interface Sample {
  usPerRequest: number;
  rps: number;
  peakRssMiB: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      baseline: { type: 'string', multiple: true },
      rounds: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      rate: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const rate = values.rate !== undefined ? Number(values.rate) : 0;
  const load = (url: string, s: number): Promise<LoadResult> =>
    rate > 0 ? runOpenLoop({ url, rate, seconds: s }) : runWrk({ url, connections, seconds: s, tmpDir });
  const loadName = rate > 0 ? `the open-loop generator at ${rate} req/s` : `\`wrk -t1 -c${connections}\``;
  const builds: [string, string][] = [['this build', mizzenBin]];
  for (const dir of values.baseline ?? []) builds.push([dir, join(resolve(dir), 'bin', 'mizzen.js')]);
  const facts = await machineFacts([]);
  pinThisProcess('0');
  const tmpDir = mkdtempSync(join(tmpdir(), 'mizzen-cpu-per-request-'));
  const ng = { dir: join(tmpDir, 'backend'), port: await freePort(), h2Port: await freePort(), workers: 1 };
  mkdirSync(ng.dir);
  await startNginx(ng);
  const samples = new Map<string, Sample[]>();
  for (let r = 1; r <= rounds; r++) {
    for (const [name, bin] of r % 2 ? builds : [...builds].reverse()) {
      const dir = join(tmpDir, `${r}-${samples.size}-${Math.random().toString(36).slice(2, 8)}`);
      mkdirSync(dir);
      const port = await freePort();
      const proxy = await startMizzenProxy({
        dir,
        port,
        adminPort: await freePort(),
        upstreamPort: ng.port,
        bin,
        cpus: '1',
      });
      try {
        const url = `http://127.0.0.1:${port}/1k`;
        // Warm-up: connections opened and code compiled before the measured run.
        await load(url, 2);
        const peak = watchPeakRss(proxy.pid, 100);
        const cpu0 = cpuOf(proxy.pid);
        const w = await load(url, seconds);
        const cpu = cpuOf(proxy.pid) - cpu0;
        const s = { usPerRequest: (cpu * 1e6) / w.requests, rps: w.rps, peakRssMiB: peak.stop() / 2 ** 20 };
        samples.set(name, [...(samples.get(name) ?? []), s]);
        console.error(
          `[cpu-per-request] round ${r}/${rounds} ${name}: ${s.rps.toFixed(0)} req/s, ${s.usPerRequest.toFixed(1)} µs CPU per request, RSS ${(rssOf(proxy.pid) / 2 ** 20).toFixed(1)} MiB`,
        );
      } finally {
        await proxy.stop();
      }
    }
  }
  await stopAll();

  const first = samples.get(builds[0][0])!;
  const lines = [
    `# Mizzen proxy CPU per request, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${facts.host}`,
    '',
    `Machine: ${facts.cores} cores, ${facts.model}, Node ${facts.node}. Mizzen commit ${facts.commit}. Load average (1 min) at start ${facts.loadAtStart.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}.`,
    '',
    `Run: \`node dist/bench/cpu-per-request.js ${process.argv.slice(2).join(' ')}\` — the data-plane benchmark's static sidecar config (header match, 80/20 split, circuit breakers, outlier detection) in front of nginx serving 1 KiB; ${loadName} for ${seconds} s after a 2 s warm-up, ${rounds} rounds, builds alternated; the proxy alone on CPU 1. CPU from /proc/PID/stat over the measured run, divided by the requests the load generator completed.`,
    '',
    `| build | µs CPU per request, median [range] | req/s, median | peak RSS, MiB |${builds.length > 1 ? ' this build ÷ it, per round: median [range] |' : ''}`,
    `|---|---|---|---|${builds.length > 1 ? '---|' : ''}`,
  ];
  const range = (xs: number[], d: number): string =>
    `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;
  for (const [name] of builds) {
    const s = samples.get(name)!;
    const ratios = s.map((x, i) => first[i].usPerRequest / x.usPerRequest);
    lines.push(
      `| ${name} | ${range(
        s.map((x) => x.usPerRequest),
        1,
      )} | ${median(s.map((x) => x.rps)).toFixed(0)} | ${median(s.map((x) => x.peakRssMiB)).toFixed(1)} |${builds.length > 1 ? (name === builds[0][0] ? ' – |' : ` ${range(ratios, 2)}× |`) : ''}`,
    );
  }
  const report = lines.join('\n') + '\n';
  process.stdout.write(report);
  if (values.out) writeFileSync(values.out, report);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (e: Error) => {
    console.error(`cpu-per-request: ${e.message}`);
    await stopAll();
    process.exit(1);
  },
);
