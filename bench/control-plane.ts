// Control-plane benchmark: `mizzen server` over N generated services with M simulated ADS clients in worker
// processes; measures cold sync, VirtualService-change propagation, a full push, and the server's CPU and RSS.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FromWorker, ToWorker } from './ads-sim-worker.js';
import { nowMs, type SimNode, type Watch } from './lib/ads-sim.js';
import { serviceName, simNodes, virtualServiceYaml, writeAtomic, writeServices } from './lib/mesh-config.js';
import { benchDist, mizzenBin } from './lib/paths.js';
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
  /** Server CPU-seconds per phase. */
  cpu: { coldSync: number; perVsChange: number; fullPush: number };
  /** Server RSS, bytes. */
  rss: { beforeClients: number; idleSynced: number; peak: number };
  /** The exact server command. */
  command: string;
}

class Fleet {
  readonly synced = new Map<number, [number, number]>();
  readonly arrived = new Map<number, Map<number, number>>();
  ready = 0;
  private readonly workers: ChildProcess[] = [];
  private nextWatch = 1;

  constructor(count: number) {
    for (let w = 0; w < count; w++) {
      const child = fork(join(benchDist, 'ads-sim-worker.js'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m: FromWorker) => this.onEvents(m));
      this.workers.push(child);
    }
  }

  /** Starts clients `offset`.. with these identities, spread over the workers in contiguous chunks. */
  start(server: string, nodes: SimNode[], offset: number): void {
    const per = Math.ceil(nodes.length / this.workers.length);
    this.workers.forEach((w, k) => {
      const chunk = nodes.slice(k * per, (k + 1) * per);
      if (chunk.length === 0) return;
      const msg: ToWorker = { type: 'start', server, first: offset + k * per, nodes: chunk, spreadMs: 0 };
      w.send(msg);
    });
  }

  watch(typeUrl: string, marker: string): number {
    const watch: Watch = { id: this.nextWatch++, typeUrl, marker };
    this.arrived.set(watch.id, new Map());
    for (const w of this.workers) w.send({ type: 'watch', watch } satisfies ToWorker);
    return watch.id;
  }

  stop(): void {
    for (const w of this.workers) {
      if (w.connected) w.send({ type: 'stop' } satisfies ToWorker);
      setTimeout(() => w.kill('SIGKILL'), 2000).unref();
    }
  }

  private onEvents(m: FromWorker): void {
    if (m.type === 'ready') {
      this.ready++;
      return;
    }
    for (const [c, at, bytes] of m.synced) this.synced.set(c, [at, bytes]);
    for (const [w, c, at] of m.arrived) this.arrived.get(w)?.set(c, at);
  }
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
  const args = [
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
    const cpu0 = sampleTree(pid).cpuSeconds;
    fleet = new Fleet(o.workers);
    const f = fleet;
    if (!(await waitFor(() => f.ready >= o.workers, 60))) throw new Error('client workers did not start');
    // One client first: the server's first generation (loading protos, building indexes) is timed apart.
    const nodes = simNodes(o.services, o.clients);
    const tFirst = nowMs();
    f.start(address, nodes.slice(0, 1), 0);
    await waitFor(() => f.synced.size >= 1, o.timeoutSeconds);
    const firstSyncMs = (f.synced.get(0)?.[0] ?? NaN) - tFirst;
    await sleep(500);
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
    const cpuSync = sampleTree(pid).cpuSeconds - cpu0;
    const idleSynced = sampleTree(pid).rssBytes;

    const vsChanges: Spread[] = [];
    const cpuChange: number[] = [];
    const vsPath = join(dir, 'virtualservices', `${serviceName(0)}.yaml`);
    for (let k = 1; k <= o.changes; k++) {
      const marker = `bench-canary-${k}-${Date.now().toString(36)}`;
      const id = f.watch(TypeUrl.ROUTE, marker);
      const c0 = sampleTree(pid).cpuSeconds;
      const tWrite = nowMs();
      writeAtomic(vsPath, virtualServiceYaml(serviceName(0), marker));
      await waitFor(() => f.arrived.get(id)!.size >= o.clients, o.timeoutSeconds);
      const s = spread([...f.arrived.get(id)!.values()], tWrite);
      vsChanges.push(s);
      await sleep(1500);
      cpuChange.push(sampleTree(pid).cpuSeconds - c0);
      o.log(
        `  VirtualService edit ${k}: ${s.received}/${o.clients} clients, p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms`,
      );
    }

    const extra = o.services; // index of the new service; its pods get fresh IPs
    const host = `svc-extra-${extra}.default.svc.cluster.local`;
    const cdsId = f.watch(TypeUrl.CLUSTER, host);
    const rdsId = f.watch(TypeUrl.ROUTE, host);
    const c1 = sampleTree(pid).cpuSeconds;
    const tAdd = nowMs();
    writeServices(dir, extra, extra + 1, 'svc-extra');
    await waitFor(() => f.arrived.get(rdsId)!.size >= o.clients, o.timeoutSeconds);
    const fullPushCds = spread([...f.arrived.get(cdsId)!.values()], tAdd);
    const fullPushRds = spread([...f.arrived.get(rdsId)!.values()], tAdd);
    await sleep(1500);
    const cpuFull = sampleTree(pid).cpuSeconds - c1;
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
      cpu: { coldSync: cpuSync, perVsChange: median(cpuChange), fullPush: cpuFull },
      rss: { beforeClients, idleSynced, peak: peak.stop() },
      command: `node ${args.slice(0, 1).join(' ')} server --config DIR --xds-address 127.0.0.1:0 --debug-address 127.0.0.1:0`,
    };
  } finally {
    fleet?.stop();
    await server?.stop(5000);
  }
}
