// `mizzen up DIR`: run a whole mesh on this machine from a folder of manifests (foreground, or -d to detach).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { defineCommand, UsageError } from './command.js';
import { loadPaths } from '../api/load.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../api/diagnostic.js';
import { manifestFiles } from '../local/config-dir.js';
import { LocalMesh, mizzenCommand } from '../local/mesh.js';
import { isAlive, isSameProcess, readState, type RunPaths, type RunState } from '../local/run-state.js';
import { killGroup } from '../local/supervisor.js';
import { formatTable } from '../local/table.js';
import { fileTail } from '../local/file-tail.js';
import { linePrinter } from '../local/log-prefix.js';
import { pickNetworkMode, type NetworkMode } from '../local/pod-mode.js';
import { findPrometheus } from '../local/prometheus.js';
import { startDashboard, type RunningDashboard } from '../dashboard/start.js';
import { resolvConfUpstreams } from '../pilot/dns/dns-forwarder.js';
import { rootlessOuterPid } from '../local/rootless.js';
import { startPortRelay } from '../local/port-relay.js';
import { portRelayPath, runRootlessOuter } from './up-rootless.js';

const HELP = `usage: mizzen up DIR [-d] [--network pod|host] [--resolv-conf FILE] [--gateway-port-offset N] [--run-dir PATH] [--xds-port N] [--debug-port N] [--timeout S] [--with-prometheus] [--dashboard]

Runs the control plane, an ingress gateway, one sidecar per workload instance and the workloads of
DIR's manifests (Deployment/Pod commands run as local processes; subfolders named networking/ are
skipped). Ctrl-C stops everything.

  -d, --detach                 run in the background; return once everything is ready
      --network pod|host       pod: each pod in its own network namespace, traffic captured by
                               iptables, DNS for service names (Linux; the default there: as root,
                               or without root in a user namespace of its own, ports published here);
                               host: pods share this machine's loopback and use HTTP_PROXY
      --resolv-conf FILE       pod mode: the resolvers that names outside the mesh are forwarded to,
                               as the kubelet's --resolv-conf (default /etc/resolv.conf; its
                               systemd-resolved stub is replaced by the real upstreams)
      --gateway-port-offset N  gateway ports below 1024 are published at port+N (default 8000)
      --run-dir PATH           config, logs and state (default .mizzen/, or $MIZZEN_RUN_DIR)
      --xds-port N             control plane xDS port on 127.0.0.1 (default 15010, or a free one, printed,
                               when that is busy); a given port that is busy fails \`up\`
      --debug-port N           control plane debug port (default 15014; a free one if busy)
                               (pod mode: both on the node namespace's address; 0 means 15010/15014)
      --timeout S              how long to wait for readiness, in seconds (default 120)
      --with-prometheus        also run Prometheus (Debian's prometheus package) at 127.0.0.1:9090 (a free
                               port if taken) scraping every sidecar's merged :15020 (proxy + the
                               app's prometheus.io-annotated metrics), the gateway and the control
                               plane; <run-dir>/prometheus/targets.json is written either way
      --scrape-interval S      Prometheus scrape interval in seconds (default 15)
      --dashboard              also serve \`mizzen dashboard\` (graph, config health, route explainer) on
                               127.0.0.1:20001 (the next free port if taken) and print its URL`;

/** `--scrape-interval`: whole seconds, default 15. */
function scrapeInterval(v: string | undefined): number {
  const n = Number(v ?? 15);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--scrape-interval must be whole seconds, got "${v}"`);
  return n;
}

/** Options shared by the foreground and daemon paths. */
interface UpOptions {
  readonly dir: string;
  readonly paths: RunPaths;
  readonly offset: number;
  readonly xdsPort: number;
  /** `--xds-port` was given: a busy port fails `up` instead of being replaced. */
  readonly xdsPortGiven: boolean;
  readonly debugPort: number;
  readonly timeoutMs: number;
  /** As asked with --network (undefined: pod where it can run). */
  readonly network: NetworkMode | undefined;
  /** --resolv-conf as given (passed on to the daemon child). */
  readonly resolvConf: string | undefined;
  /** Its nameservers as --dns-upstream (`none` when it names none). */
  readonly dnsUpstream: string | undefined;
  /** Prometheus scrape interval (s) when `--with-prometheus`, else null. */
  readonly prometheus: number | null;
  /** `--dashboard`: serve the dashboard from this process. */
  readonly dashboard: boolean;
}

function int(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag} must be a whole number, got "${v}"`);
  return n;
}

export default defineCommand({
  name: 'up',
  summary: 'run a whole mesh on this machine from a folder of manifests',
  help: HELP,
  runDir: true,
  flags: {
    detach: { type: 'boolean', short: 'd' },
    'gateway-port-offset': { type: 'string' },
    'xds-port': { type: 'string' },
    'debug-port': { type: 'string' },
    timeout: { type: 'string' },
    network: { type: 'string' },
    'resolv-conf': { type: 'string' },
    'daemon-child': { type: 'boolean' },
    'with-prometheus': { type: 'boolean' },
    'scrape-interval': { type: 'string' },
    dashboard: { type: 'boolean' },
  },
  args: { min: 1, max: 1, expected: 'one folder of manifests' },
  async run({ flags: values, args: positionals, paths }) {
    const dir = resolve(positionals[0]);
    if (!existsSync(dir)) {
      console.error(`mizzen up: ${positionals[0]}: no such file or directory`);
      return 1;
    }
    const timeoutS = Number(values.timeout ?? 120);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds`);
    const network = values.network;
    if (network !== undefined && network !== 'pod' && network !== 'host')
      throw new UsageError(`--network must be pod or host, got "${network}"`);
    const resolvConf = values['resolv-conf'];
    let dnsUpstream: string | undefined;
    if (resolvConf !== undefined) {
      let text: string;
      try {
        text = readFileSync(resolvConf, 'utf8');
      } catch (err) {
        console.error(`mizzen up: --resolv-conf ${resolvConf}: ${(err as Error).message}`);
        return 1;
      }
      const ups = resolvConfUpstreams(text);
      dnsUpstream =
        ups.length > 0
          ? ups.map((u) => (u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`)).join(',')
          : 'none';
    }
    const o: UpOptions = {
      network,
      resolvConf: resolvConf === undefined ? undefined : resolve(resolvConf),
      dnsUpstream,
      dir,
      paths,
      offset: int(values['gateway-port-offset'], '--gateway-port-offset', 8000),
      xdsPort: int(values['xds-port'], '--xds-port', 15010),
      xdsPortGiven: values['xds-port'] !== undefined,
      debugPort: int(values['debug-port'], '--debug-port', 15014),
      timeoutMs: timeoutS * 1000,
      prometheus: values['with-prometheus'] ? scrapeInterval(values['scrape-interval']) : null,
      dashboard: values.dashboard === true,
    };
    if (o.prometheus !== null && !findPrometheus()) {
      console.error(
        'mizzen up: --with-prometheus needs the prometheus binary on PATH; install it (Debian: apt-get install prometheus) or drop the flag',
      );
      return 1;
    }
    // The daemon child, and the inner `up` of a rootless run (its outer checked and claimed already).
    if (values['daemon-child'] || rootlessOuterPid() !== null)
      return runMesh(o, values['daemon-child'] === true);
    if (!validate(dir, o.paths.root)) return 1;
    if (!claimRunDir(o.paths)) return 1;
    clearLogs(o.paths);
    return values.detach ? detach(o) : runMesh(o, false);
  },
});

/** Loads the manifests; prints positioned problems; false when any is an error (nothing is started). */
function validate(dir: string, runDir: string): boolean {
  const r = loadPaths(manifestFiles(dir, runDir));
  for (const d of sortDiagnostics(r.diagnostics)) console.error(formatDiagnostic(d));
  if (hasErrors(r.diagnostics)) {
    console.error('mizzen up: fix the errors above; nothing was started');
    return false;
  }
  const workloads = r.resources.filter((x) => x.kind === 'Deployment' || x.kind === 'Pod').length;
  console.log(`loaded ${r.resources.length} resources (${workloads} workloads) from ${dir}`);
  return true;
}

/** Refuses a run directory whose mesh still runs; kills what a crashed earlier run left behind. */
function claimRunDir(paths: RunPaths): boolean {
  const old = readState(paths);
  if (!old) return true;
  if (isSameProcess(old.pid, old.pidStartedAt) && old.phase !== 'stopped') {
    console.error(
      `mizzen up: a mesh is already running from ${paths.root} (pid ${old.pid}); run \`mizzen down\` first`,
    );
    return false;
  }
  let killed = 0;
  for (const p of Object.values(old.processes))
    if (p.pid && isAlive(p.pid) && killGroup(p.pid, 'SIGKILL')) killed++;
  if (killed) console.log(`stopped ${killed} processes left over from an earlier run`);
  return true;
}

function clearLogs(paths: RunPaths): void {
  mkdirSync(paths.logs, { recursive: true });
  for (const f of readdirSync(paths.logs)) rmSync(join(paths.logs, f), { force: true, recursive: true });
}

/** Runs the mesh in this process until SIGINT/SIGTERM; `daemon` keeps child output out of stdout. */
async function runMesh(o: UpOptions, daemon: boolean): Promise<number> {
  const t0 = Date.now();
  const say = (line: string): void => console.log(`[mizzen] ${line}`);
  const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const print = daemon ? undefined : linePrinter(process.stdout);
  let network: NetworkMode;
  let rootless: boolean;
  const outerPid = rootlessOuterPid();
  try {
    const picked = pickNetworkMode(o.network);
    network = picked.mode;
    rootless = picked.rootless;
    if (picked.reason) say(`network: host (pod network mode cannot run: ${picked.reason})`);
    else if (outerPid === null)
      say(`network: ${network}${rootless ? ' (rootless: in a user namespace of its own)' : ''}`);
  } catch (err) {
    say((err as Error).message);
    return 1;
  }
  if (rootless && outerPid === null) {
    if (o.resolvConf !== undefined)
      say(`--resolv-conf ${o.resolvConf} is not used: rootless pods have no route off this machine`);
    return runRootlessOuter(o, childArgs(o, daemon), say);
  }
  const mesh = new LocalMesh({
    network,
    rootless,
    ...(o.dnsUpstream !== undefined ? { dnsUpstream: o.dnsUpstream } : {}),
    manifestPath: o.dir,
    paths: o.paths,
    gatewayPortOffset: o.offset,
    xdsPort: o.xdsPort,
    xdsPortRequired: o.xdsPortGiven,
    debugPort: o.debugPort,
    prometheus: o.prometheus !== null ? { scrapeIntervalS: o.prometheus, port: 9090 } : null,
    say,
    ...(print ? { onLine: print } : {}),
  });
  let stopping: Promise<void> | null = null;
  let markFinished: () => void = () => {};
  const finished = new Promise<void>((res) => (markFinished = res));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      say(`${sig} again: killing everything now`);
      mesh.killNow();
      process.exit(130);
    }
    say(`${sig}: stopping everything (Ctrl-C again to kill at once)`);
    stopping ??= mesh.stop().then(markFinished);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => {
    const h = (): void => onSignal(s);
    process.on(s, h);
    return [s, h] as const;
  });
  let dashboard: RunningDashboard | null = null;
  const onExit = (): void => mesh.killNow();
  process.on('exit', onExit);
  // A rootless run's inner `up`: serves the host's port relay, and stops when the host side is gone.
  const relay = outerPid !== null ? await startPortRelay(portRelayPath(o.paths)) : null;
  const watchOuter =
    outerPid !== null
      ? setInterval(() => {
          if (isAlive(outerPid)) return;
          clearInterval(watchOuter!);
          onSignal('SIGTERM');
        }, 1000)
      : null;
  try {
    try {
      await mesh.start();
    } catch (err) {
      say(`cannot start: ${(err as Error).message}`);
      await mesh.stop();
      mesh.fail((err as Error).message);
      return 1;
    }
    if (stopping) {
      await finished;
      return 0;
    }
    printSummary(mesh.state(), mesh.urls());
    if (mesh.prometheus) say(`Prometheus: http://${mesh.prometheus}/graph`);
    if (o.dashboard) dashboard = await startMeshDashboard(mesh, o.paths, say);
    say(`waiting for readiness (up to ${o.timeoutMs / 1000}s)…`);
    const waiting = await Promise.race([
      mesh.waitReady(o.timeoutMs, (ready, total) => say(`ready ${ready}/${total} (${elapsed()})`)),
      finished.then(() => null),
    ]);
    if (waiting === null) return 0;
    if (waiting.length === 0) say(`all ready in ${elapsed()}`);
    else {
      say(`not ready after ${o.timeoutMs / 1000}s: ${waiting.join(', ')} (see \`mizzen logs NAME\`)`);
      // Keep waiting quietly so the run turns ready once the stragglers come up.
      void mesh.waitReady(24 * 3600_000);
    }
    if (!daemon) say('Ctrl-C stops everything');
    await finished;
    say('stopped');
    return 0;
  } finally {
    if (watchOuter) clearInterval(watchOuter);
    relay?.close();
    await dashboard?.close();
    for (const [s, h] of handlers) process.off(s, h);
    process.off('exit', onExit);
  }
}

/** `--dashboard`: serves it over this mesh's control plane and proxies; null (and said why) when it cannot. */
async function startMeshDashboard(
  mesh: LocalMesh,
  paths: RunPaths,
  say: (line: string) => void,
): Promise<RunningDashboard | null> {
  try {
    const d = await startDashboard({
      controlPlane: mesh.state().debugAddress,
      runPaths: paths,
      ...(mesh.prometheus ? { prometheus: mesh.prometheus } : {}),
      targets: () =>
        mesh
          .scrapeTargets()
          .filter((t) => t.path === '/stats/prometheus')
          .map((t) => `http://${t.address}${t.path}`),
    });
    mesh.setDashboardUrl(d.url);
    say(`dashboard: ${d.url}`);
    return d;
  } catch (err) {
    say(`dashboard not started: ${(err as Error).message}`);
    return null;
  }
}

/** The table of what runs where, and the URLs to try. */
function printSummary(s: RunState, urls: string[]): void {
  const rows = s.pods.map((p) => [
    p.workload,
    p.name,
    p.podIp,
    p.appIp,
    p.ports.length ? p.ports.join(',') : '-',
  ]);
  rows.push([
    'istio-ingressgateway',
    s.gateway.nodeId.split('~')[2].split('.')[0],
    '127.0.0.1',
    '-',
    s.gateway.ports
      .map((p) => (p.port === p.published ? `${p.port}` : `${p.port}→${p.published}`))
      .join(',') || '-',
  ]);
  rows.push([
    'control plane',
    'mizzen-server',
    s.xdsAddress.slice(0, s.xdsAddress.lastIndexOf(':')),
    '-',
    `xds ${s.xdsAddress}, debug ${s.debugAddress}`,
  ]);
  console.log('\n' + formatTable(['WORKLOAD', 'POD', 'POD IP', 'APP IP', 'PORTS'], rows));
  if (urls.length) console.log('\nTry:\n' + urls.map((u) => `  ${u}`).join('\n'));
  console.log('');
}

/** `mizzen up` arguments that run the same mesh again (the daemon child, a rootless run's inner `up`). */
function childArgs(o: UpOptions, daemon: boolean): string[] {
  return [
    'up',
    o.dir,
    ...(daemon ? ['--daemon-child'] : []),
    '--run-dir',
    o.paths.root,
    '--gateway-port-offset',
    String(o.offset),
    ...(o.xdsPortGiven ? ['--xds-port', String(o.xdsPort)] : []),
    '--debug-port',
    String(o.debugPort),
    '--timeout',
    String(o.timeoutMs / 1000),
    ...(o.network ? ['--network', o.network] : []),
    ...(o.resolvConf !== undefined ? ['--resolv-conf', o.resolvConf] : []),
    ...(o.prometheus !== null ? ['--with-prometheus', '--scrape-interval', String(o.prometheus)] : []),
    ...(o.dashboard ? ['--dashboard'] : []),
  ];
}

/** `-d`: re-runs `up` detached with output to logs/up.log, shows its progress, returns once it is ready. */
async function detach(o: UpOptions): Promise<number> {
  const logFile = join(o.paths.logs, 'up.log');
  const out = openSync(logFile, 'a');
  const args = childArgs(o, true);
  const [node, ...pre] = mizzenCommand();
  const child = spawn(node, [...pre, ...args], {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: process.cwd(),
  });
  child.unref();
  closeSync(out);
  const pid = child.pid ?? 0;
  const tail = fileTail(logFile);
  const deadline = Date.now() + o.timeoutMs + 15_000;
  let interrupted = false;
  const onInt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onInt);
  try {
    for (;;) {
      if (interrupted) {
        console.error(
          `\nstopped waiting; the mesh keeps starting in the background (pid ${pid}); \`mizzen down\` stops it`,
        );
        return 130;
      }
      await new Promise((r) => setTimeout(r, 100));
      process.stdout.write(tail());
      const s = readState(o.paths);
      const mine = s && s.pid === pid ? s : undefined;
      if (mine?.phase === 'ready') {
        process.stdout.write(tail());
        console.log(`mesh running in the background (pid ${pid}, run dir ${o.paths.root})`);
        console.log('  mizzen status · mizzen logs NAME [-f] · mizzen exec NAME -- CMD · mizzen down');
        return 0;
      }
      if (mine?.phase === 'failed' || !isAlive(pid)) {
        process.stdout.write(tail());
        console.error(
          `mizzen up: the mesh did not start${mine?.message ? `: ${mine.message}` : ''}; see ${logFile}`,
        );
        return 1;
      }
      if (Date.now() > deadline || (mine?.message?.startsWith('not ready') ?? false)) {
        process.stdout.write(tail());
        console.error(
          `mizzen up: not everything is ready after ${o.timeoutMs / 1000}s (${mine?.message ?? 'no state yet'}).\n` +
            `The mesh keeps running in the background (pid ${pid}): \`mizzen status\`, \`mizzen logs NAME\`, \`mizzen down\`.`,
        );
        return 1;
      }
    }
  } finally {
    process.off('SIGINT', onInt);
  }
}
