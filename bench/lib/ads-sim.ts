// A lightweight simulated Envoy on one raw ADS stream: wildcard CDS/LDS, then EDS/RDS for the names they
// carry, ACKs every response, and notes when a watched marker (bytes in a resource) first arrives.
// Resources stay serialized; only clusters and listeners are decoded, once per distinct content per process.
import * as grpc from '@grpc/grpc-js';
import { ADS_FLOW_CONTROL_WINDOW } from '../../src/xds/ads-client.js';
import { adsServiceConstructor } from '../../src/xds/ads-service.js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
} from '../../src/xds/ads-service.js';
import { decodeResource, type AnyMessage } from '../../src/xds/protos.js';
import { structFromJson } from '../../src/xds/struct.js';
import { TypeUrl, VHDS_CLIENT_FEATURE } from '../../src/xds/type-urls.js';

/** Who a simulated proxy claims to be. */
export interface SimNode {
  id: string;
  metadata: Record<string, unknown>;
}

/**
 * Bytes that, once present in a response of `typeUrl`, mean the change reached this client. A watch of RDS
 * also looks at VHDS responses: a client on VHDS gets a route change as virtual hosts.
 */
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
  /** The stream ended with an error; the client reconnects after a short backoff, as Envoy does. */
  failed(client: number, message: string): void;
}

type Call = grpc.ClientDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage>;
type DeltaCall = grpc.ClientDuplexStream<DeltaDiscoveryRequestMessage, DeltaDiscoveryResponseMessage>;

/** Which ADS variant the simulated proxies speak: Envoy's incremental xDS (istiod's default) or state of the world. */
export type XdsMode = 'delta' | 'sotw';

const namesCache = new Map<string, string[]>();

/** EDS names a cluster asks for, or route config names a listener asks for (cached by content). */
function dependentNames(any: AnyMessage): string[] {
  if (any.type_url === TypeUrl.CLUSTER) return edsServiceName(any.value);
  const key = Buffer.from(any.value.buffer, any.value.byteOffset, any.value.byteLength).toString('latin1');
  let names = namesCache.get(key);
  if (names) return names;
  const obj = decodeResource(any) as Record<string, any>;
  names = [];
  collectRouteNames(obj, names);
  if (namesCache.size > 100_000) namesCache.clear();
  namesCache.set(key, names);
  return names;
}

/** Reads a varint at `at`; returns [value, next offset]. */
function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const byte = b[at++];
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, at];
    mul *= 128;
  }
}

/**
 * Visits the fields of the message in b[start, end): `value` is the varint for wire type 0, else the
 * length-delimited payload's start (with `end` its end). Fixed-width fields are skipped.
 */
function forEachField(
  b: Uint8Array,
  start: number,
  end: number,
  visit: (field: number, wire: number, value: number, valueEnd: number) => void,
): void {
  for (let at = start; at < end;) {
    const [tag, next] = varint(b, at);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, n] = varint(b, next);
      visit(field, wire, v, n);
      at = n;
    } else if (wire === 2) {
      const [len, n] = varint(b, next);
      visit(field, wire, n, n + len);
      at = n + len;
    } else if (wire === 5) at = next + 4;
    else if (wire === 1) at = next + 8;
    else return;
  }
}

/**
 * The EDS service name of a serialized envoy.config.cluster.v3.Cluster, read from the wire without decoding
 * it (a client gets thousands per response): `eds_cluster_config.service_name` (field 3 → 2) or else `name`
 * (field 1) when `type` (field 2) is EDS (3); none for other types.
 */
export function edsServiceName(b: Uint8Array): string[] {
  const text = (from: number, to: number): string =>
    Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('utf8');
  let name = '';
  let service = '';
  let type = 0;
  forEachField(b, 0, b.length, (field, wire, value, valueEnd) => {
    if (field === 1 && wire === 2) name = text(value, valueEnd);
    else if (field === 2 && wire === 0) type = value;
    else if (field === 3 && wire === 2)
      forEachField(b, value, valueEnd, (f, w, v, vEnd) => {
        if (f === 2 && w === 2) service = text(v, vEnd);
      });
  });
  return type === 3 ? [service || name] : [];
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

/**
 * One simulated proxy on a Delta ADS stream: CDS and LDS wildcard, EDS and RDS by name (subscribing and
 * unsubscribing as clusters and listeners come and go), ACKing every response; it keeps per type the
 * names it holds and, for clusters and listeners, the names they refer to. With `vhds` it says so in its
 * node's client features, as the Mizzen proxy does, and subscribes VHDS to the route configs it holds.
 */
export class DeltaSimClient {
  private readonly client: grpc.Client;
  private call: DeltaCall | null = null;
  /** Per type: resource name → EDS/RDS names it refers to (CDS, LDS) or nothing. */
  private readonly held = new Map<string, Map<string, string[]>>();
  private readonly subscribed = new Map<string, Set<string>>();
  private readonly seen = new Set<string>();
  private readonly watchesDone = new Set<number>();
  private bytes = 0;
  private isSynced = false;
  private closed = false;

  constructor(
    private readonly index: number,
    server: string,
    private readonly node: SimNode,
    private readonly sink: SimSink,
    private readonly watches: () => Watch[],
    private readonly vhds = false,
  ) {
    this.client = new (adsServiceConstructor())(server, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
    });
  }

  /** Opens the stream and subscribes CDS and LDS (wildcard); after an error, opens a new one 0.5–1 s later. */
  start(): void {
    const call = (this.client as any).DeltaAggregatedResources() as DeltaCall;
    this.call = call;
    this.held.clear();
    this.subscribed.clear();
    call.on('data', (res: DeltaDiscoveryResponseMessage) => this.onResponse(res));
    call.on('error', (err: Error) => {
      if (this.closed || this.call !== call) return;
      this.sink.failed(this.index, err.message);
      setTimeout(() => !this.closed && this.start(), 500 + Math.random() * 500);
    });
    call.write({
      typeUrl: TypeUrl.CLUSTER,
      node: {
        id: this.node.id,
        metadata: structFromJson(this.node.metadata),
        userAgentName: 'mizzen-bench',
        ...(this.vhds ? { clientFeatures: [VHDS_CLIENT_FEATURE] } : {}),
      },
    });
    call.write({ typeUrl: TypeUrl.LISTENER });
  }

  /** Ends the stream and the connection. */
  close(): void {
    this.closed = true;
    try {
      this.call?.cancel();
    } catch {}
    this.client.close();
  }

  private onResponse(res: DeltaDiscoveryResponseMessage): void {
    const at = nowMs();
    const typeUrl = res.typeUrl ?? '';
    const anys: AnyMessage[] = [];
    let held = this.held.get(typeUrl);
    if (!held) this.held.set(typeUrl, (held = new Map()));
    const follows = typeUrl === TypeUrl.CLUSTER || typeUrl === TypeUrl.LISTENER;
    for (const r of res.resources ?? []) {
      if (!r.resource) continue;
      anys.push(r.resource);
      this.bytes += r.resource.value.byteLength;
      held.set(r.name ?? '', follows ? dependentNames(r.resource) : []);
    }
    for (const n of res.removedResources ?? []) held.delete(n);
    const watched = typeUrl === TypeUrl.VIRTUAL_HOST ? TypeUrl.ROUTE : typeUrl;
    checkWatches(this.watches(), this.watchesDone, watched, anys, (id) =>
      this.sink.arrived(id, this.index, at),
    );
    this.seen.add(typeUrl);
    this.call?.write({ typeUrl, responseNonce: res.nonce ?? '' }); // ACK
    if (typeUrl === TypeUrl.CLUSTER) this.follow(TypeUrl.ENDPOINT, held);
    else if (typeUrl === TypeUrl.LISTENER) this.follow(TypeUrl.ROUTE, held);
    // VHDS by the route configs' names (the server sends a VHDS client's sidecar route configs as stubs).
    else if (typeUrl === TypeUrl.ROUTE && this.vhds)
      this.follow(TypeUrl.VIRTUAL_HOST, new Map([...held.keys()].map((n) => [n, [n]])));
    if (!this.isSynced && this.allSeen()) {
      this.isSynced = true;
      this.sink.synced(this.index, at, this.bytes);
    }
  }

  /** Subscribes the EDS/RDS names the held clusters/listeners refer to, and unsubscribes the others. */
  private follow(typeUrl: string, parents: Map<string, string[]>): void {
    const want = new Set<string>();
    for (const names of parents.values()) for (const n of names) want.add(n);
    const cur = this.subscribed.get(typeUrl) ?? new Set<string>();
    const add = [...want].filter((n) => !cur.has(n));
    const drop = [...cur].filter((n) => !want.has(n));
    if (add.length === 0 && drop.length === 0) return;
    this.subscribed.set(typeUrl, want);
    this.call?.write({ typeUrl, resourceNamesSubscribe: add, resourceNamesUnsubscribe: drop });
  }

  private allSeen(): boolean {
    if (!this.seen.has(TypeUrl.CLUSTER) || !this.seen.has(TypeUrl.LISTENER)) return false;
    for (const [typeUrl, names] of this.subscribed)
      if (names.size > 0 && !this.seen.has(typeUrl)) return false;
    return true;
  }
}

/** Reports each watch of `typeUrl` whose marker is in one of the resources, once per client. */
function checkWatches(
  watches: Watch[],
  done: Set<number>,
  typeUrl: string,
  resources: AnyMessage[],
  arrived: (watch: number) => void,
): void {
  for (const w of watches) {
    if (w.typeUrl !== typeUrl || done.has(w.id)) continue;
    if (
      resources.some((r) =>
        Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).includes(w.marker),
      )
    ) {
      done.add(w.id);
      arrived(w.id);
    }
  }
}

/** One simulated proxy on a state-of-the-world ADS stream. */
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
  private closed = false;

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
      // Envoy's default HTTP/2 windows (256 MiB), as the real ADS client uses.
      'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
    });
  }

  /** Opens the stream and subscribes CDS and LDS (wildcard); after an error, opens a new one 0.5–1 s later. */
  start(): void {
    const call = (this.client as any).StreamAggregatedResources() as Call;
    this.call = call;
    this.subs.clear();
    this.subs.set(TypeUrl.CLUSTER, []);
    this.subs.set(TypeUrl.LISTENER, []);
    this.versions.clear();
    call.on('data', (res: DiscoveryResponseMessage) => this.onResponse(res));
    call.on('error', (err: Error) => {
      if (this.closed || this.call !== call) return;
      this.sink.failed(this.index, err.message);
      setTimeout(() => !this.closed && this.start(), 500 + Math.random() * 500);
    });
    this.send(TypeUrl.CLUSTER, '', true);
    this.send(TypeUrl.LISTENER, '');
  }

  /** Ends the stream and the connection. */
  close(): void {
    this.closed = true;
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
    checkWatches(this.watches(), this.watchesDone, typeUrl, resources, (id) =>
      this.sink.arrived(id, this.index, at),
    );
  }
}
