// Worker process of the control-plane benchmark: runs a share of the simulated proxies and reports their
// sync and arrival times to the parent over IPC in batches.
import { DeltaSimClient, SimClient, type SimNode, type Watch, type XdsMode } from './lib/ads-sim.js';
import { MizzenProxyClient } from './lib/mizzen-proxy-client.js';
import { adsServiceConstructor } from '../src/xds/ads-service.js';
import { envoyRoot } from '../src/xds/protos.js';

/** Parent → worker. */
export type ToWorker =
  | {
      type: 'start';
      server: string;
      first: number;
      nodes: SimNode[];
      spreadMs: number;
      mode: XdsMode;
      /** Real Mizzen proxies (their own ADS client, delta) instead of simulated clients. */
      mizzenProxies?: boolean;
      /** Simulated delta clients ask for VHDS (as the Mizzen proxy does). */
      vhds?: boolean;
    }
  | { type: 'watch'; watch: Watch }
  | { type: 'stop' };

/** Worker → parent: `ready` once the protos are loaded; `events` with wall-clock ms times (`performance.timeOrigin + performance.now()`). */
export type FromWorker = { type: 'ready' } | { type: 'watching'; id: number } | WorkerEvents;

/** A batch of client events. */
export interface WorkerEvents {
  type: 'events';
  /** [client index, time, bytes received until then]. */
  synced: [number, number, number][];
  /** [watch id, client index, time]. */
  arrived: [number, number, number][];
  /** [client index, error message] of streams that ended with an error. */
  failed: [number, string][];
}

const clients: Array<SimClient | DeltaSimClient | MizzenProxyClient> = [];
const watches: Watch[] = [];
let synced: WorkerEvents['synced'] = [];
let arrived: WorkerEvents['arrived'] = [];
let failed: WorkerEvents['failed'] = [];

const sink = {
  synced: (c: number, at: number, bytes: number) => synced.push([c, at, bytes]),
  arrived: (w: number, c: number, at: number) => arrived.push([w, c, at]),
  failed: (c: number, message: string) => failed.push([c, message]),
};

const flush = setInterval(() => {
  if (synced.length === 0 && arrived.length === 0 && failed.length === 0) return;
  const msg: WorkerEvents = { type: 'events', synced, arrived, failed };
  synced = [];
  arrived = [];
  failed = [];
  process.send?.(msg);
}, 100);

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') {
    // Connections are opened over `spreadMs`, as proxies starting with their pods would.
    msg.nodes.forEach((node, i) => {
      const Client = msg.mizzenProxies ? MizzenProxyClient : msg.mode === 'sotw' ? SimClient : DeltaSimClient;
      const c = new Client(msg.first + i, msg.server, node, sink, () => watches, msg.vhds === true);
      clients.push(c);
      setTimeout(() => c.start(), (msg.spreadMs * i) / Math.max(1, msg.nodes.length));
    });
  } else if (msg.type === 'watch') {
    watches.push(msg.watch);
    // The parent writes the change only after every worker confirmed, so no arrival can precede the watch.
    process.send?.({ type: 'watching', id: msg.watch.id } satisfies FromWorker);
  } else if (msg.type === 'stop') {
    for (const c of clients) c.close();
    clearInterval(flush);
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200).unref();
  }
});

process.on('disconnect', () => process.exit(0));

// Load the protos before the clock starts, so the parent times the control plane, not our start-up.
adsServiceConstructor();
envoyRoot();
process.send?.({ type: 'ready' } satisfies FromWorker);
