// `npm run bench`: installs the tools, runs the data-plane and control-plane benchmarks and writes the report.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runControlPlane, type ControlPlaneResult } from './control-plane.js';
import { runDataPlane, type DataPlaneResult } from './data-plane.js';
import { dataPlaneTools, ensureTools } from './lib/install.js';
import { machineFacts } from './lib/machine.js';
import { repoRoot, resultsDir } from './lib/paths.js';
import { stopAll } from './lib/proc.js';
import { renderReport, type BenchReport } from './lib/report.js';

const HELP = `usage: node dist/bench/run.js [flags]        (npm run bench -- [flags])
  --only data|control   run one half (default both)
  --seconds S           seconds per measured point            [10]
  --rounds N            rounds, targets alternated each round  [3]
  --warmup S            warm-up per target and load shape     [3]
  --rate R              fixed-rate load, requests/s            [1000]
  --services N          control plane: services                [100]
  --clients M           control plane: simulated proxies       [200]
  --workers W           control plane: client worker processes [ceil(M/250), 1..4;
                        ceil(M/100) with --mizzen-proxies]
  --changes K           control plane: VirtualService edits    [3]
  --sidecar-scope [K]   control plane: K services per namespace (ns-0, ns-1, ...), a Sidecar
                        in each (egress ./* and istio-system/*), every proxy in its service's
                        namespace; the edit and the new service go to ns-0, so only its proxies
                        should get them                        [off; 10 when given without K]
  --sotw                control plane: simulated clients speak state-of-the-world ADS (default: delta)
  --no-vhds             control plane: simulated delta clients do not ask for VHDS, so route configs
                        come whole (default: they ask, as the Mizzen proxy does)
  --mizzen-proxies      control plane: the M clients are real Mizzen proxies (the proxy's own ADS
                        client and config compilers, delta), up to 100 per worker process, each
                        bound to its own loopback address, instead of simulated clients
  --full                1000 services × 2000 clients
  --quick               3 s points, 1 round, 1 s warm-up, 20 × 40 (checks the harness works)
  --no-profile          skip the CPU profile of Mizzen's proxy
  --baseline DIR        data plane: also measure the Mizzen build in DIR (its bin/mizzen.js, built;
                        e.g. \`git worktree add DIR <commit> && (cd DIR && npm ci && npm run build)\`)
                        as the target "Mizzen baseline", alternated with the others
  --no-haproxy          data plane: leave HAProxy out
  --no-multi-core       data plane: skip the 2-worker part
  --pin                 data plane: load generators and backend on CPU 0, the proxy under test alone on
                        CPU 1 (taskset; steadier figures on a 2-core machine)
  --out FILE            report path [bench/results/<date>-<host>.md]`;

/** The arguments with `10` after a bare `--sidecar-scope` (last, or followed by another flag). */
function withScopeDefault(argv: string[]): string[] {
  return argv.flatMap((a, i) =>
    a === '--sidecar-scope' && (i + 1 >= argv.length || argv[i + 1].startsWith('--')) ? [a, '10'] : [a],
  );
}

/** `--sidecar-scope` → services per namespace; null when the flag is absent, NaN when it is not a whole number >= 1. */
function sidecarScope(v: string | undefined): number | null {
  if (v === undefined) return null;
  const k = Number(v);
  return Number.isInteger(k) && k >= 1 ? k : NaN;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: withScopeDefault(process.argv.slice(2)),
    options: {
      only: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      services: { type: 'string' },
      clients: { type: 'string' },
      workers: { type: 'string' },
      changes: { type: 'string' },
      'sidecar-scope': { type: 'string' },
      full: { type: 'boolean', default: false },
      sotw: { type: 'boolean', default: false },
      'no-vhds': { type: 'boolean', default: false },
      'mizzen-proxies': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      'no-profile': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      'no-haproxy': { type: 'boolean', default: false },
      'no-multi-core': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const q = values.quick;
  const num = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));
  const seconds = num(values.seconds, q ? 3 : 10);
  const rounds = num(values.rounds, q ? 1 : 3);
  const warmupSeconds = num(values.warmup, q ? 1 : 3);
  const fixedRate = num(values.rate, 1000);
  const services = num(values.services, values.full ? 1000 : q ? 20 : 100);
  const clients = num(values.clients, values.full ? 2000 : q ? 40 : 200);
  const perWorker = values['mizzen-proxies'] ? 100 : 250;
  const workers = num(values.workers, Math.min(4, Math.max(1, Math.ceil(clients / perWorker))));
  if (values['mizzen-proxies'] && values.sotw) {
    console.error(
      "bench: --mizzen-proxies speak delta xDS (the proxy's default); drop --sotw or --mizzen-proxies",
    );
    return 2;
  }
  const scope = sidecarScope(values['sidecar-scope']);
  if (Number.isNaN(scope)) {
    console.error(`bench: --sidecar-scope wants a whole number >= 1, got "${values['sidecar-scope']}"`);
    return 2;
  }
  const log = (line: string): void =>
    console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const startedAt = new Date();
  const tmpDir = mkdtempSync(join(tmpdir(), 'mizzen-bench-'));
  log(`scratch folder ${tmpDir}; load average ${loadavg()[0]?.toFixed(2)}`);
  const failures: string[] = [];
  const wantData = values.only !== 'control';
  const wantControl = values.only !== 'data';

  if (wantData) await ensureTools(dataPlaneTools, log);
  const machine = await machineFacts(['nginx-light', 'haproxy', 'wrk', 'nghttp2-client']);
  let dataPlane: DataPlaneResult | null = null;
  let controlPlane: ControlPlaneResult | null = null;
  if (wantData) {
    try {
      dataPlane = await runDataPlane({
        seconds,
        rounds,
        warmupSeconds,
        fixedRate,
        profile: !values['no-profile'],
        tmpDir,
        baselineBin: values.baseline ? join(resolve(values.baseline), 'bin', 'mizzen.js') : null,
        haproxy: !values['no-haproxy'],
        multiCore: !values['no-multi-core'],
        pin: values.pin === true,
        log,
      });
    } catch (e) {
      failures.push(`data plane: ${(e as Error).message.split('\n').slice(0, 5).join(' ')}`);
      log(`data plane failed: ${(e as Error).stack}`);
    }
  }
  if (wantControl) {
    try {
      controlPlane = await runControlPlane({
        services,
        clients,
        workers,
        changes: num(values.changes, 3),
        sidecarScope: scope,
        xdsMode: values.sotw ? 'sotw' : 'delta',
        mizzenProxies: values['mizzen-proxies'],
        vhds: !values['no-vhds'],
        timeoutSeconds: values.full ? 300 : 120,
        tmpDir,
        log,
      });
    } catch (e) {
      failures.push(`control plane: ${(e as Error).message.split('\n').slice(0, 5).join(' ')}`);
      log(`control plane failed: ${(e as Error).stack}`);
    }
  }
  const invocation = `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  const result: BenchReport = {
    startedAt,
    invocation,
    machine,
    settings: { seconds, rounds, warmupSeconds, fixedRate },
    dataPlane,
    controlPlane,
    loadAtEnd: loadavg()[0] ?? 0,
    failures,
  };
  const report = renderReport(result);
  mkdirSync(resultsDir, { recursive: true });
  const out = values.out ?? join(resultsDir, `${startedAt.toISOString().slice(0, 10)}-${hostname()}.md`);
  writeFileSync(out, report);
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify(result, null, 1));
  log(`report written to ${relative(repoRoot, out)}`);
  return failures.length ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`bench: ${sig}: stopping the servers and proxies it started`);
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
