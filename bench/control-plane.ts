// Control-plane benchmark: `mizzen server` over N generated services with M simulated ADS clients in worker
// processes; measures cold sync, VirtualService-change propagation, a full push, the responses the server sent
// per phase, and its CPU and RSS. With a Sidecar scope, services sit in namespaces that each see only themselves.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs, type XdsMode } from './lib/ads-sim.js';
import { Fleet } from './lib/fleet.js';
import {
  namespaceCount,
  namespaceOf,
  serviceName,
  simNodes,
  virtualServiceYaml,
  writeAtomic,
  writeServices,
  writeScaledPod,
  writeSidecars,
  type MeshLayout,
} from './lib/mesh-config.js';
import { mizzenBin } from './lib/paths.js';
import { sleep, startProcess, type Running } from './lib/proc.js';
import { sampleTree, watchPeakRss } from './lib/proc-stats.js';
import { median, percentileOf } from './lib/stats.js';
import { TypeUrl } from '../src/xds/type-urls.js';

/** Settings of one control-plane run. */
export interface ControlPlaneOptions {
  /** Services generated (each: Service, DestinationRule, 2 Pods, VirtualService). */
  services: number;
  /** Simulated proxies. */
  clients: number;
  /** Worker processes holding the clients. */
  workers: number;
  /** VirtualService edits measured. */
  changes: number;
  /**
   * Services per namespace, each namespace with a Sidecar (egress `./*`, `istio-system/*`) and its
   * proxies in it; null or absent = every service and proxy in `default`, no Sidecar.
   */
  sidecarScope?: number | null;
  /** ADS variant of the simulated clients: delta (Envoy's and istiod's default) or state of the world. */
  xdsMode?: XdsMode;
  /** The clients are real Mizzen proxies (several per worker process) instead of simulated ones. */
  mizzenProxies?: boolean;
  /** Simulated delta clients ask for VHDS, as the Mizzen proxy does (default true). */
  vhds?: boolean;
  /** Give up waiting for a phase after this long, seconds. */
  timeoutSeconds: number;
  /** Scratch folder. */
  tmpDir: string;
  /** Progress lines. */
  log: (line: string) => void;
}

/** Per-client delays of one phase, milliseconds. */
export interface Spread {
  p50: number;
  p99: number;
  max: number;
  /** Clients that got it in time (of those meant to; all clients when `expected` is absent). */
  received: number;
  /** Clients meant to get it (the ones that can see the change); absent in runs before Sidecar scoping. */
  expected?: number;
  /** Clients outside `expected` that got it anyway (should be 0). */
  elsewhere?: number;
}

/** Responses the server sent in a phase, by type: deltas of `pilot_xds_pushes{type}` on its /metrics. */
export interface PushCounts {
  cds: number;
  eds: number;
  lds: number;
  rds: number;
  /** Absent in reports from before VHDS. */
  vhds?: number;
}

/** CPU-seconds spent in one phase. */
export interface CpuSplit {
  server: number;
  clients: number;
}

/** Everything the control-plane run measured. */
export interface ControlPlaneResult {
  services: number;
  clients: number;
  workers: number;
  /** ADS variant the simulated clients spoke; absent in reports from before 2026-12-06 (= state of the world). */
  xdsMode?: XdsMode;
  /**
   * The clients were real Mizzen proxies (their ADS client and config compilers, delta) rather than
   * simulated ones; their workers' RSS once all were synced. Absent when simulated.
   */
  mizzenProxies?: { workersRssSynced: number };
  /** The clients asked for VHDS (delta only); absent in reports from before VHDS (= they did not). */
  vhds?: boolean;
  /** Namespaces and services in each; absent in reports from before Sidecar scoping (= all in `default`). */
  layout?: { namespaces: number; perNamespace: number | null };
  /** The namespace of service 0 (the edited VirtualService and the new service) and its clients. */
  changeNamespace?: { name: string; clients: number };
  /** Config resources written. */
  resources: number;
  /** From spawning `mizzen server` to "xds listening", ms. */
  startupMs: number;
  /** From opening the first client's stream to it having CDS, LDS, EDS and RDS, ms. */
  firstSyncMs: number;
  /** Then the other M-1 streams opened at once: to each client having CDS, LDS, EDS and RDS. */
  coldSync: Spread;
  /** Median bytes of resources a client received in its initial sync. */
  bytesPerClient: number;
  /** VirtualService rewrite → RDS with the change at each client; one entry per edit. */
  vsChanges: Spread[];
  /**
   * One more Pod of service 0 (a scaled Deployment: endpoints only) → its address in EDS at each client.
   * Absent in reports from before 2026-12-06.
   */
  endpointChange?: Spread;
  /** New Service + Pods + VirtualService → the new cluster in CDS at each client. */
  fullPushCds: Spread;
  /** … → the new route in RDS (the last type pushed) at each client. */
  fullPushRds: Spread;
  /**
   * Responses sent per phase (cold sync of the other M-1 clients, each VirtualService edit, the full
   * push), counted from just before the phase until 1.5 s after its last expected arrival, or until the
   * server went quiet if later (the cold sync: 3 s after the last client synced); a null entry
   * could not be scraped. Absent in reports from before it was measured.
   */
  pushes?: {
    coldSync: PushCounts | null;
    vsChanges: (PushCounts | null)[];
    /** The endpoint-only change; absent in reports from before 2026-12-06. */
    endpointChange?: PushCounts | null;
    fullPush: PushCounts | null;
  };
  /** CPU-seconds per phase of the server and of all client workers together (to show which side was busy). */
  cpu: { coldSync: CpuSplit; perVsChange: CpuSplit; endpointChange?: CpuSplit; fullPush: CpuSplit };
  /** Server RSS, bytes. */
  rss: { beforeClients: number; idleSynced: number; peak: number };
  /**
   * Streams that ended with an error before the run finished, the first error seen, and how many streams
   * the server evicted for taking no byte of a response within its send timeout (`pilot_xds_write_timeout`
   * at the end; null when the scrape failed), and how many connections it closed because a keepalive PING
   * went unanswered for its keepalive timeout (grpc-js' `keepalive` trace in its log; null when not traced).
   */
  streamErrors: {
    count: number;
    first: string;
    sendTimeouts?: number | null;
    keepaliveCloses?: number | null;
  };
  /** The exact server command. */
  command: string;
}

function spread(times: number[], since: number): Spread {
  const d = times.map((t) => t - since);
  return {
    p50: percentileOf(d, 50),
    p99: percentileOf(d, 99),
    max: d.length ? Math.max(...d) : NaN,
    received: d.length,
  };
}

/** The spread of arrivals at the `expected` clients, with the count of arrivals at any other client. */
function spreadOver(arrived: Map<number, number>, expected: Set<number>, since: number): Spread {
  const times: number[] = [];
  for (const [c, at] of arrived) if (expected.has(c)) times.push(at);
  return { ...spread(times, since), expected: expected.size, elsewhere: arrived.size - times.length };
}

/** How many of the `expected` clients a watch reached. */
function reached(arrived: Map<number, number>, expected: Set<number>): number {
  let n = 0;
  for (const c of arrived.keys()) if (expected.has(c)) n++;
  return n;
}

/** The server's `pilot_xds_write_timeout` (streams evicted by its send timeout); null when the scrape fails. */
async function scrapeWriteTimeouts(debug: string): Promise<number | null> {
  try {
    const res = await fetch(`http://${debug}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const m = /^pilot_xds_write_timeout(?:\{[^}]*\})? (\d+)/m.exec(await res.text());
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Connections grpc-js closed for an unanswered keepalive PING, from its `keepalive` trace; null when not traced. */
function keepaliveCloses(logFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return null;
  }
  if (!text.includes('| keepalive |')) return null;
  return text.split('Ping timeout passed without response').length - 1;
}

/** The server's `pilot_xds_pushes{type}` counters from its debug /metrics; null when the scrape fails. */
async function scrapePushes(debug: string): Promise<PushCounts | null> {
  try {
    const res = await fetch(`http://${debug}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const out: PushCounts = { cds: 0, eds: 0, lds: 0, rds: 0, vhds: 0 };
    for (const m of text.matchAll(/^pilot_xds_pushes\{type="(\w+)"\} (\d+)/gm))
      if (m[1] in out) out[m[1] as keyof PushCounts] = Number(m[2]);
    return out;
  } catch {
    return null;
  }
}

function pushDelta(a: PushCounts | null, b: PushCounts | null): PushCounts | null {
  if (!a || !b) return null;
  return {
    cds: b.cds - a.cds,
    eds: b.eds - a.eds,
    lds: b.lds - a.lds,
    rds: b.rds - a.rds,
    vhds: (b.vhds ?? 0) - (a.vhds ?? 0),
  };
}

function pushText(p: PushCounts | null): string {
  return p
    ? `pushes CDS ${p.cds}, EDS ${p.eds}, LDS ${p.lds}, RDS ${p.rds}, VHDS ${p.vhds ?? 0}`
    : 'pushes not scraped';
}

async function waitFor(cond: () => boolean, timeoutSeconds: number): Promise<boolean> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Runs the control-plane benchmark; stops the server and workers it started, also on failure. */
export async function runControlPlane(o: ControlPlaneOptions): Promise<ControlPlaneResult> {
  const layout: MeshLayout = { perNamespace: o.sidecarScope ?? null };
  const namespaces = namespaceCount(layout, o.services);
  const dir = join(
    o.tmpDir,
    layout.perNamespace === null ? `mesh-${o.services}` : `mesh-${o.services}-scoped`,
  );
  mkdirSync(dir, { recursive: true });
  o.log(
    `control plane: writing ${o.services} services (Service, DestinationRule, 2 Pods, VirtualService each)` +
      (layout.perNamespace === null
        ? ''
        : ` in ${namespaces} namespaces of ${layout.perNamespace}, a Sidecar in each (egress ./*, istio-system/*)`),
  );
  writeServices(dir, 0, o.services, { layout });
  writeSidecars(dir, layout, o.services);
  // MIZZEN_BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server.
  const nodeArgs = (process.env.MIZZEN_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // MIZZEN_BENCH_SERVER_ARGS (e.g. `--keepalive-interval 0`) adds flags to `mizzen server`.
  const serverFlags = (process.env.MIZZEN_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
  const args = [
    ...nodeArgs,
    mizzenBin,
    'server',
    '--config',
    dir,
    '--xds-address',
    '127.0.0.1:0',
    '--debug-address',
    '127.0.0.1:0',
    ...serverFlags,
  ];
  const serverLog = join(o.tmpDir, `server-${o.services}x${o.clients}.log`);
  const t0 = Date.now();
  let server: Running | null = null;
  let fleet: Fleet | null = null;
  try {
    server = await startProcess(process.execPath, args, {
      waitFor: /xds listening on (\S+)/,
      timeoutMs: o.timeoutSeconds * 1000,
      logFile: serverLog,
      // grpc-js logs each keepalive PING and each connection it closes for an unanswered one; the report
      // counts the closes. A GRPC_TRACE of the caller's own is left alone.
      env: process.env.GRPC_TRACE ? {} : { GRPC_TRACE: 'keepalive', GRPC_VERBOSITY: 'DEBUG' },
    });
    o.log(`control plane: mizzen server ${serverFlags.join(' ')} (its log: ${serverLog})`);
    const startupMs = Date.now() - t0;
    const address = /xds listening on (\S+)/.exec(server.output())![1];
    // The server prints the debug address right after the xds line.
    const out = server;
    await waitFor(() => /debug listening on (\S+)/.test(out.output()), 10);
    const debug = /debug listening on (\S+)/.exec(server.output())?.[1] ?? '';
    const pid = server.pid;
    await sleep(1000);
    const beforeClients = sampleTree(pid).rssBytes;
    const peak = watchPeakRss(pid, 200);

    o.log(`control plane: ${address}; connecting ${o.clients} clients from ${o.workers} worker processes`);
    const vhds = (o.xdsMode ?? 'delta') === 'delta' && o.vhds !== false;
    fleet = new Fleet(o.workers, o.xdsMode ?? 'delta', o.mizzenProxies ?? false, vhds);
    const f = fleet;
    const cpuNow = (): CpuSplit => ({ server: sampleTree(pid).cpuSeconds, clients: f.cpuSeconds() });
    const since = (a: CpuSplit): CpuSplit => {
      const b = cpuNow();
      return { server: b.server - a.server, clients: b.clients - a.clients };
    };
    if (!(await waitFor(() => f.ready >= o.workers, 60))) throw new Error('client workers did not start');
    // One client first: the server's first generation (loading protos, building indexes) is timed apart.
    // 1.5 s after a phase's last expected arrival, then on until the server sent nothing more and used
    // < 50 ms CPU over 0.5 s: with a Sidecar scope it may still be busy with proxies that were not waited for.
    const settle = async (): Promise<PushCounts | null> => {
      await sleep(1500);
      let last = await scrapePushes(debug);
      let cpu = sampleTree(pid).cpuSeconds;
      const deadline = Date.now() + o.timeoutSeconds * 1000;
      while (Date.now() < deadline) {
        await sleep(500);
        const now = await scrapePushes(debug);
        const c = sampleTree(pid).cpuSeconds;
        if (JSON.stringify(now) === JSON.stringify(last) && c - cpu < 0.05) break;
        [last, cpu] = [now, c];
      }
      return last;
    };
    const nodes = simNodes(o.services, o.clients, layout);
    // Service 0's namespace: the edited VirtualService and the new service live there; only its clients see them.
    const changeNs = namespaceOf(layout, 0);
    const audience = new Set<number>();
    nodes.forEach((n, c) => n.metadata.NAMESPACE === changeNs && audience.add(c));
    const tFirst = nowMs();
    f.start(address, nodes.slice(0, 1), 0);
    await waitFor(() => f.synced.size >= 1, o.timeoutSeconds);
    const firstSyncMs = (f.synced.get(0)?.[0] ?? NaN) - tFirst;
    await sleep(500);
    const pushes0 = await scrapePushes(debug);
    const cpu0 = cpuNow();
    const tConnect = nowMs();
    f.start(address, nodes.slice(1), 1);
    const allSynced = await waitFor(() => f.synced.size >= o.clients, o.timeoutSeconds);
    const coldSync = spread(
      [...f.synced.entries()].filter(([c]) => c > 0).map(([, x]) => x[0]),
      tConnect,
    );
    o.log(
      `  first client ${firstSyncMs.toFixed(0)} ms; cold sync: ${coldSync.received}/${o.clients - 1} clients, p50 ${coldSync.p50.toFixed(0)} ms, max ${coldSync.max.toFixed(0)} ms${allSynced ? '' : ' (timed out)'}`,
    );
    await sleep(3000);
    const cpuSync = since(cpu0);
    const pushesSync = pushDelta(pushes0, await scrapePushes(debug));
    o.log(`  cold sync ${pushText(pushesSync)}`);
    const idleSynced = sampleTree(pid).rssBytes;
    const workersRssSynced = f.rssBytes();

    const vsChanges: Spread[] = [];
    const vsPushes: (PushCounts | null)[] = [];
    const cpuChange: CpuSplit[] = [];
    const vsPath = join(dir, 'virtualservices', `${serviceName(0)}.yaml`);
    for (let k = 1; k <= o.changes; k++) {
      const marker = `bench-canary-${k}-${Date.now().toString(36)}`;
      const id = await f.watch(TypeUrl.ROUTE, marker);
      const p0 = await scrapePushes(debug);
      const c0 = cpuNow();
      const tWrite = nowMs();
      writeAtomic(vsPath, virtualServiceYaml(serviceName(0), marker, changeNs));
      const got = f.arrived.get(id)!;
      await waitFor(() => reached(got, audience) >= audience.size, o.timeoutSeconds);
      const s = spreadOver(got, audience, tWrite);
      vsChanges.push(s);
      const p = pushDelta(p0, await settle());
      cpuChange.push(since(c0));
      vsPushes.push(p);
      o.log(
        `  VirtualService edit ${k}: ${s.received}/${audience.size} clients (${s.elsewhere} elsewhere), p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms; ${pushText(p)}`,
      );
    }

    // Endpoint-only change: service 0's v1 scaled to two Pods; its new address must reach every client's EDS.
    const epId = await f.watch(TypeUrl.ENDPOINT, '127.3.0.1');
    const pe0 = await scrapePushes(debug);
    const ce0 = cpuNow();
    const tScale = nowMs();
    writeScaledPod(dir, 0, changeNs);
    const gotEp = f.arrived.get(epId)!;
    await waitFor(() => reached(gotEp, audience) >= audience.size, o.timeoutSeconds);
    const endpointChange = spreadOver(gotEp, audience, tScale);
    const pushesEp = pushDelta(pe0, await settle());
    const cpuEp = since(ce0);
    o.log(
      `  endpoint-only change: ${endpointChange.received}/${audience.size} clients (${endpointChange.elsewhere} elsewhere), p50 ${endpointChange.p50.toFixed(0)} ms, p99 ${endpointChange.p99.toFixed(0)} ms; ${pushText(pushesEp)}`,
    );

    const extra = o.services; // index of the new service; its pods get fresh IPs
    const host = `svc-extra-${extra}.${changeNs}.svc.cluster.local`;
    const cdsId = await f.watch(TypeUrl.CLUSTER, host);
    const rdsId = await f.watch(TypeUrl.ROUTE, host);
    const p1 = await scrapePushes(debug);
    const c1 = cpuNow();
    const tAdd = nowMs();
    writeServices(dir, extra, extra + 1, { prefix: 'svc-extra', namespace: changeNs });
    const gotRds = f.arrived.get(rdsId)!;
    await waitFor(() => reached(gotRds, audience) >= audience.size, o.timeoutSeconds);
    const fullPushCds = spreadOver(f.arrived.get(cdsId)!, audience, tAdd);
    const fullPushRds = spreadOver(gotRds, audience, tAdd);
    const pushesFull = pushDelta(p1, await settle());
    const cpuFull = since(c1);
    o.log(
      `  full push: CDS p50 ${fullPushCds.p50.toFixed(0)} ms; RDS ${fullPushRds.received}/${audience.size} clients (${fullPushRds.elsewhere} elsewhere), p50 ${fullPushRds.p50.toFixed(0)} ms, max ${fullPushRds.max.toFixed(0)} ms; ${pushText(pushesFull)}`,
    );

    return {
      services: o.services,
      clients: o.clients,
      workers: o.workers,
      xdsMode: o.mizzenProxies ? 'delta' : (o.xdsMode ?? 'delta'),
      ...(o.mizzenProxies ? { mizzenProxies: { workersRssSynced } } : {}),
      vhds: o.mizzenProxies === true || vhds,
      layout: { namespaces, perNamespace: layout.perNamespace },
      changeNamespace: { name: changeNs, clients: audience.size },
      resources: o.services * 5 + (layout.perNamespace === null ? 0 : namespaces),
      startupMs,
      firstSyncMs,
      coldSync,
      bytesPerClient: median([...f.synced.values()].map((x) => x[1])),
      vsChanges,
      endpointChange,
      fullPushCds,
      fullPushRds,
      pushes: { coldSync: pushesSync, vsChanges: vsPushes, endpointChange: pushesEp, fullPush: pushesFull },
      cpu: {
        coldSync: cpuSync,
        perVsChange: {
          server: median(cpuChange.map((c) => c.server)),
          clients: median(cpuChange.map((c) => c.clients)),
        },
        endpointChange: cpuEp,
        fullPush: cpuFull,
      },
      rss: { beforeClients, idleSynced, peak: peak.stop() },
      streamErrors: {
        count: f.failed.size,
        first: [...f.failed.values()][0] ?? '',
        sendTimeouts: await scrapeWriteTimeouts(debug),
        keepaliveCloses: keepaliveCloses(serverLog),
      },
      command: [
        'node bin/mizzen.js server --config DIR --xds-address 127.0.0.1:0 --debug-address 127.0.0.1:0',
      ]
        .concat(serverFlags)
        .join(' '),
    };
  } finally {
    fleet?.stop();
    await server?.stop(5000);
  }
}
