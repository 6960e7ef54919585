// Control-plane benchmark: `mizzen server` over N generated services with M simulated ADS clients in worker
// processes; measures cold sync, VirtualService-change propagation, a full push, and the server's CPU and RSS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs } from './lib/ads-sim.js';
import { Fleet } from './lib/fleet.js';
import { serviceName, simNodes, virtualServiceYaml, writeAtomic, writeServices } from './lib/mesh-config.js';
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
  /** Clients that got it in time. */
  received: number;
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
  /** New Service + Pods + VirtualService → the new cluster in CDS at each client. */
  fullPushCds: Spread;
  /** … → the new route in RDS (the last type pushed) at each client. */
  fullPushRds: Spread;
  /** CPU-seconds per phase of the server and of all client workers together (to show which side was busy). */
  cpu: { coldSync: CpuSplit; perVsChange: CpuSplit; fullPush: CpuSplit };
  /** Server RSS, bytes. */
  rss: { beforeClients: number; idleSynced: number; peak: number };
  /** Streams that ended with an error before the run finished, and the first error seen. */
  streamErrors: { count: number; first: string };
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
  const dir = join(o.tmpDir, `mesh-${o.services}`);
  mkdirSync(dir, { recursive: true });
  o.log(
    `control plane: writing ${o.services} services (Service, DestinationRule, 2 Pods, VirtualService each)`,
  );
  writeServices(dir, 0, o.services);
  // MIZZEN_BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server.
  const nodeArgs = (process.env.MIZZEN_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
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
  ];
  const t0 = Date.now();
  let server: Running | null = null;
  let fleet: Fleet | null = null;
  try {
    server = await startProcess(process.execPath, args, {
      waitFor: /xds listening on (\S+)/,
      timeoutMs: o.timeoutSeconds * 1000,
    });
    const startupMs = Date.now() - t0;
    const address = /xds listening on (\S+)/.exec(server.output())![1];
    const pid = server.pid;
    await sleep(1000);
    const beforeClients = sampleTree(pid).rssBytes;
    const peak = watchPeakRss(pid, 200);

    o.log(`control plane: ${address}; connecting ${o.clients} clients from ${o.workers} worker processes`);
    fleet = new Fleet(o.workers);
    const f = fleet;
    const cpuNow = (): CpuSplit => ({ server: sampleTree(pid).cpuSeconds, clients: f.cpuSeconds() });
    const since = (a: CpuSplit): CpuSplit => {
      const b = cpuNow();
      return { server: b.server - a.server, clients: b.clients - a.clients };
    };
    if (!(await waitFor(() => f.ready >= o.workers, 60))) throw new Error('client workers did not start');
    // One client first: the server's first generation (loading protos, building indexes) is timed apart.
    const nodes = simNodes(o.services, o.clients);
    const tFirst = nowMs();
    f.start(address, nodes.slice(0, 1), 0);
    await waitFor(() => f.synced.size >= 1, o.timeoutSeconds);
    const firstSyncMs = (f.synced.get(0)?.[0] ?? NaN) - tFirst;
    await sleep(500);
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
    const idleSynced = sampleTree(pid).rssBytes;

    const vsChanges: Spread[] = [];
    const cpuChange: CpuSplit[] = [];
    const vsPath = join(dir, 'virtualservices', `${serviceName(0)}.yaml`);
    for (let k = 1; k <= o.changes; k++) {
      const marker = `bench-canary-${k}-${Date.now().toString(36)}`;
      const id = await f.watch(TypeUrl.ROUTE, marker);
      const c0 = cpuNow();
      const tWrite = nowMs();
      writeAtomic(vsPath, virtualServiceYaml(serviceName(0), marker));
      await waitFor(() => f.arrived.get(id)!.size >= o.clients, o.timeoutSeconds);
      const s = spread([...f.arrived.get(id)!.values()], tWrite);
      vsChanges.push(s);
      await sleep(1500);
      cpuChange.push(since(c0));
      o.log(
        `  VirtualService edit ${k}: ${s.received}/${o.clients} clients, p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms`,
      );
    }

    const extra = o.services; // index of the new service; its pods get fresh IPs
    const host = `svc-extra-${extra}.default.svc.cluster.local`;
    const cdsId = await f.watch(TypeUrl.CLUSTER, host);
    const rdsId = await f.watch(TypeUrl.ROUTE, host);
    const c1 = cpuNow();
    const tAdd = nowMs();
    writeServices(dir, extra, extra + 1, 'svc-extra');
    await waitFor(() => f.arrived.get(rdsId)!.size >= o.clients, o.timeoutSeconds);
    const fullPushCds = spread([...f.arrived.get(cdsId)!.values()], tAdd);
    const fullPushRds = spread([...f.arrived.get(rdsId)!.values()], tAdd);
    await sleep(1500);
    const cpuFull = since(c1);
    o.log(
      `  full push: CDS p50 ${fullPushCds.p50.toFixed(0)} ms; RDS p50 ${fullPushRds.p50.toFixed(0)} ms, max ${fullPushRds.max.toFixed(0)} ms`,
    );

    return {
      services: o.services,
      clients: o.clients,
      workers: o.workers,
      resources: o.services * 5,
      startupMs,
      firstSyncMs,
      coldSync,
      bytesPerClient: median([...f.synced.values()].map((x) => x[1])),
      vsChanges,
      fullPushCds,
      fullPushRds,
      cpu: {
        coldSync: cpuSync,
        perVsChange: {
          server: median(cpuChange.map((c) => c.server)),
          clients: median(cpuChange.map((c) => c.clients)),
        },
        fullPush: cpuFull,
      },
      rss: { beforeClients, idleSynced, peak: peak.stop() },
      streamErrors: { count: f.failed.size, first: [...f.failed.values()][0] ?? '' },
      command: 'node bin/mizzen.js server --config DIR --xds-address 127.0.0.1:0 --debug-address 127.0.0.1:0',
    };
  } finally {
    fleet?.stop();
    await server?.stop(5000);
  }
}
