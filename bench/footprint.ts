// `node dist/bench/footprint.js`: what one idle sidecar costs — CPU from spawn to LIVE and RSS once
// settled — for a sidecar fed by `mizzen server --config examples/bookinfo` (reviews-v1, as `mizzen up`
// starts it) and for the data-plane benchmark's static-bootstrap proxy. With --baseline DIR, the build in
// DIR is measured in the same rounds, alternated, and the report gives new ÷ baseline.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mizzenBootstrap } from './lib/mizzen-proxy.js';
import { machineFacts } from './lib/machine.js';
import { mizzenBin, repoRoot } from './lib/paths.js';
import { freePort, sleep, startProcess, stopAll } from './lib/proc.js';
import { cpuOf, rssOf } from './lib/proc-stats.js';
import { median } from './lib/stats.js';

const HELP = `usage: node dist/bench/footprint.js [flags]
  --rounds N        rounds, builds alternated each round   [5]
  --settle S        seconds between LIVE and the RSS reading [20]
  --baseline DIR    also measure the Mizzen build in DIR (its bin/mizzen.js, built)
  --out FILE        also write the report (markdown) to FILE`;

interface Sample {
  cpuToLiveMs: number;
  rssMiB: number;
}

/** Spawns a proxy, waits for "proxy is LIVE", reads its CPU, waits `settleS`, reads its RSS, stops it. */
async function measure(bin: string, args: string[], settleS: number): Promise<Sample> {
  const p = await startProcess(process.execPath, [bin, 'proxy', ...args], {
    waitFor: /proxy is LIVE/,
    timeoutMs: 60_000,
  });
  try {
    const cpuToLiveMs = cpuOf(p.pid) * 1000;
    await sleep(settleS * 1000);
    return { cpuToLiveMs, rssMiB: rssOf(p.pid) / 2 ** 20 };
  } finally {
    await p.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      settle: { type: 'string', default: '20' },
      baseline: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const rounds = Number(values.rounds);
  const settle = Number(values.settle);
  const builds: [string, string][] = [['Mizzen', mizzenBin]];
  if (values.baseline) builds.push(['Mizzen baseline', join(resolve(values.baseline), 'bin', 'mizzen.js')]);
  const facts = await machineFacts([]);
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-footprint-'));

  const xdsPort = await freePort();
  const server = await startProcess(
    process.execPath,
    [
      mizzenBin,
      'server',
      '--config',
      join(repoRoot, 'examples', 'bookinfo'),
      '--xds-address',
      `127.0.0.1:${xdsPort}`,
    ],
    { waitFor: /xds listening/, timeoutMs: 60_000 },
  );
  const backendPort = await freePort();
  const sidecar = async (): Promise<string[]> => [
    'sidecar',
    '--xds-address',
    `127.0.0.1:${xdsPort}`,
    '--id',
    'sidecar~127.0.0.1~reviews-v1-0.default~default.svc.cluster.local',
    '--metadata',
    JSON.stringify({
      NAMESPACE: 'default',
      LABELS: { app: 'reviews', version: 'v1' },
      INTERCEPTION_MODE: 'NONE',
    }),
    '--admin-port',
    String(await freePort()),
  ];
  const staticBootstrap = async (): Promise<string[]> => {
    const file = join(dir, 'bootstrap.yaml');
    writeFileSync(
      file,
      mizzenBootstrap({
        dir,
        port: await freePort(),
        adminPort: await freePort(),
        upstreamPort: backendPort,
      }),
    );
    return ['--bootstrap', file];
  };
  const kinds: [string, () => Promise<string[]>][] = [
    ['xDS sidecar (bookinfo reviews-v1)', sidecar],
    ['static bootstrap (the data-plane benchmark’s)', staticBootstrap],
  ];
  const samples = new Map<string, Sample[]>();
  try {
    for (let r = 1; r <= rounds; r++) {
      for (const [kind, args] of kinds)
        for (const [build, bin] of r % 2 ? builds : [...builds].reverse()) {
          const s = await measure(bin, await args(), settle);
          const key = `${kind}\u0000${build}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
          console.error(
            `[footprint] round ${r}/${rounds} ${kind}, ${build}: CPU to LIVE ${s.cpuToLiveMs.toFixed(0)} ms, RSS ${s.rssMiB.toFixed(1)} MiB`,
          );
        }
    }
  } finally {
    await server.stop();
  }

  const lines = [
    `# Mizzen footprint, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${facts.host}`,
    '',
    `Machine: ${facts.cores} cores, ${facts.model}, Node ${facts.node}. Mizzen commit ${facts.commit}${values.baseline ? `, baseline ${values.baseline}` : ''}. Load average (1 min) at start ${facts.loadAtStart.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}.`,
    '',
    `Run: \`node dist/bench/footprint.js ${process.argv.slice(2).join(' ')}\` — each proxy is spawned, its CPU read when it logs "proxy is LIVE", its RSS (VmRSS) ${settle} s later; ${rounds} rounds, builds alternated. Medians, with the range in brackets.`,
    '',
    `| proxy | build | CPU to LIVE, ms | idle RSS, MiB |${builds.length > 1 ? ' RSS ÷ baseline | CPU ÷ baseline |' : ''}`,
    `|---|---|---|---|${builds.length > 1 ? '---|---|' : ''}`,
  ];
  for (const [kind] of kinds) {
    const base = samples.get(`${kind}\u0000Mizzen baseline`) ?? [];
    for (const [build] of builds) {
      const s = samples.get(`${kind}\u0000${build}`) ?? [];
      const cpu = s.map((x) => x.cpuToLiveMs);
      const rss = s.map((x) => x.rssMiB);
      const range = (xs: number[], d: number): string =>
        `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;
      const ratios =
        builds.length > 1 && build === 'Mizzen'
          ? ` ${(median(rss) / median(base.map((x) => x.rssMiB))).toFixed(2)}× | ${(median(cpu) / median(base.map((x) => x.cpuToLiveMs))).toFixed(2)}× |`
          : builds.length > 1
            ? ' | |'
            : '';
      lines.push(`| ${kind} | ${build} | ${range(cpu, 0)} | ${range(rss, 1)} |${ratios}`);
    }
  }
  const report = lines.join('\n') + '\n';
  process.stdout.write(report);
  if (values.out) writeFileSync(values.out, report);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (e: Error) => {
    console.error(`footprint: ${e.message}`);
    await stopAll();
    process.exit(1);
  },
);
