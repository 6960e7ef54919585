// A lightweight simulated Envoy on one raw ADS stream: wildcard CDS/LDS, then EDS/RDS for the names they
// carry, ACKs every response, and notes when a watched marker (bytes in a resource) first arrives.
// Resources stay serialized; only clusters and listeners are decoded, once per distinct content per process.
import * as grpc from '@grpc/grpc-js';
import { adsServiceConstructor } from '../../src/xds/ads-service.js';
import type { DiscoveryRequestMessage, DiscoveryResponseMessage } from '../../src/xds/ads-service.js';
import { decodeResource, type AnyMessage } from '../../src/xds/protos.js';
import { structFromJson } from '../../src/xds/struct.js';
import { TypeUrl } from '../../src/xds/type-urls.js';

/** Who a simulated proxy claims to be. */
export interface SimNode {
  id: string;
  metadata: Record<string, unknown>;
}

/** Bytes that, once present in a response of `typeUrl`, mean the change reached this client. */
export interface Watch {
  id: number;
  typeUrl: string;
  marker: string;
}

/** Callbacks into the worker that owns the client. */
export interface SimSink {
  /** First time every subscribed type has had a response. */
  synced(client: number, at: number, bytes: number): void;
  /** A watch's marker arrived. */
  arrived(watch: number, client: number, at: number): void;
  /** The stream ended with an error (the client does not reconnect: the benchmark counts it as lost). */
  failed(client: number, message: string): void;
}

type Call = grpc.ClientDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage>;

const namesCache = new Map<string, string[]>();

/** EDS names a cluster asks for, or route config names a listener asks for (cached by content). */
function dependentNames(any: AnyMessage): string[] {
  const key = Buffer.from(any.value.buffer, any.value.byteOffset, any.value.byteLength).toString('latin1');
  let names = namesCache.get(key);
  if (names) return names;
  const obj = decodeResource(any) as Record<string, any>;
  names = [];
  if (any.type_url === TypeUrl.CLUSTER) {
    if (obj.type === 'EDS') names.push(String(obj.edsClusterConfig?.serviceName || obj.name));
  } else {
    collectRouteNames(obj, names);
  }
  if (namesCache.size > 100_000) namesCache.clear();
  namesCache.set(key, names);
  return names;
}

function collectRouteNames(obj: unknown, out: string[]): void {
  if (Array.isArray(obj)) {
    for (const x of obj) collectRouteNames(x, out);
  } else if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'rds' && v && typeof v === 'object' && 'routeConfigName' in v)
        out.push(String(v.routeConfigName));
      else collectRouteNames(v, out);
    }
  }
}

/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One simulated proxy. */
export class SimClient {
  private readonly client: grpc.Client;
  private call: Call | null = null;
  private readonly subs = new Map<string, string[]>([
    [TypeUrl.CLUSTER, []],
    [TypeUrl.LISTENER, []],
  ]);
  private readonly versions = new Map<string, string>();
  private readonly seen = new Set<string>();
  private readonly watchesDone = new Set<number>();
  private bytes = 0;
  private isSynced = false;

  constructor(
    private readonly index: number,
    server: string,
    private readonly node: SimNode,
    private readonly sink: SimSink,
    private readonly watches: () => Watch[],
  ) {
    const Ctor = adsServiceConstructor();
    // A local subchannel pool gives each simulated proxy its own HTTP/2 connection, as real proxies have.
    this.client = new Ctor(server, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    });
  }

  /** Opens the stream and subscribes CDS and LDS (wildcard). */
  start(): void {
    const call = (this.client as any).StreamAggregatedResources() as Call;
    this.call = call;
    call.on('data', (res: DiscoveryResponseMessage) => this.onResponse(res));
    call.on('error', (err: Error) => this.sink.failed(this.index, err.message));
    this.send(TypeUrl.CLUSTER, '', true);
    this.send(TypeUrl.LISTENER, '');
  }

  /** Ends the stream and the connection. */
  close(): void {
    try {
      this.call?.cancel();
    } catch {}
    this.client.close();
  }

  private send(typeUrl: string, nonce: string, withNode = false): void {
    const req: DiscoveryRequestMessage = {
      versionInfo: this.versions.get(typeUrl) ?? '',
      resourceNames: this.subs.get(typeUrl) ?? [],
      typeUrl,
      responseNonce: nonce,
    };
    if (withNode)
      req.node = {
        id: this.node.id,
        metadata: structFromJson(this.node.metadata),
        userAgentName: 'mizzen-bench',
      };
    this.call?.write(req);
  }

  private onResponse(res: DiscoveryResponseMessage): void {
    const at = nowMs();
    const typeUrl = res.typeUrl ?? '';
    const resources = res.resources ?? [];
    for (const r of resources) this.bytes += r.value.byteLength;
    this.checkWatches(typeUrl, resources, at);
    this.versions.set(typeUrl, res.versionInfo ?? '');
    this.seen.add(typeUrl);
    this.send(typeUrl, res.nonce ?? ''); // ACK
    if (typeUrl === TypeUrl.CLUSTER) this.follow(TypeUrl.ENDPOINT, resources);
    else if (typeUrl === TypeUrl.LISTENER) this.follow(TypeUrl.ROUTE, resources);
    if (!this.isSynced && this.allSeen()) {
      this.isSynced = true;
      this.sink.synced(this.index, at, this.bytes);
    }
  }

  /** Subscribes the EDS/RDS names the clusters/listeners refer to, when they changed. */
  private follow(typeUrl: string, resources: AnyMessage[]): void {
    const names = [...new Set(resources.flatMap(dependentNames))].sort();
    const cur = this.subs.get(typeUrl);
    if (cur && cur.length === names.length && cur.every((n, i) => n === names[i])) return;
    this.subs.set(typeUrl, names);
    if (names.length > 0 || cur) this.send(typeUrl, '');
  }

  private allSeen(): boolean {
    for (const [typeUrl, names] of this.subs) {
      const wildcard = typeUrl === TypeUrl.CLUSTER || typeUrl === TypeUrl.LISTENER;
      if ((wildcard || names.length > 0) && !this.seen.has(typeUrl)) return false;
    }
    return true;
  }

  private checkWatches(typeUrl: string, resources: AnyMessage[], at: number): void {
    for (const w of this.watches()) {
      if (w.typeUrl !== typeUrl || this.watchesDone.has(w.id)) continue;
      if (
        resources.some((r) =>
          Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).includes(w.marker),
        )
      ) {
        this.watchesDone.add(w.id);
        this.sink.arrived(w.id, this.index, at);
      }
    }
  }
}
