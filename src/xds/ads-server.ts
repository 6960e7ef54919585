// The ADS gRPC server (envoy.service.discovery.v3.AggregatedDiscoveryService, state of the world and
// delta): serves whatever a generate callback produces, pushes changes (debounced), counts like Istio.
import * as grpc from '@grpc/grpc-js';
import { adsServiceConstructor } from './ads-service.js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
} from './ads-service.js';
import type { GenerateFn, ProxyInfo, PushTypes, ServedStream, StreamHost, TypeStatus } from './ads-stream.js';
import { AdsStream } from './ads-stream.js';
import { DeltaAdsStream } from './delta-stream.js';
import { Debouncer } from './debounce.js';
import { PushThrottle } from './push-throttle.js';
import { SerializedResponse } from './discovery-response-bytes.js';
import type { XdsLogger } from './logger.js';
import { stderrLogger } from './logger.js';
import { shortTypeName } from './type-urls.js';
import { ISTIOD_KEEPALIVE, keepaliveServerOptions, type ServerKeepalive } from './server-keepalive.js';
import { listenXds, type XdsListener } from './xds-listener.js';

/**
 * How long a client may take no byte of a response before its stream is evicted, ms. Longer than any
 * proxy spends compiling one update (a sidecar of an unscoped 1000-service mesh is busy for seconds on a
 * starved node, and evicting it would cost it and the server a full resync), short enough that a client
 * that stopped reading does not hold its stream and pending response for good: its HTTP/2 layer still
 * answers keepalive PINGs, so keepalive alone would never close it.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;

export type { GenerateFn, NackRecord, ProxyInfo, PushTypes, Resource, TypeStatus } from './ads-stream.js';

/** Settings of an {@link AdsServer}. */
export interface AdsServerOptions {
  /** Produces the resources of one type for one proxy. */
  generate: GenerateFn;
  /** host:port to listen on; default `0.0.0.0:15010`. Port 0 picks a free port (see {@link AdsServer.port}). */
  address?: string;
  /** Debounce quiet period for {@link AdsServer.requestPush}, ms; default 100. */
  debounceMs?: number;
  /** Debounce maximum delay, ms; default 1000. */
  maxDebounceMs?: number;
  /** Control plane identifier sent in every response; default `mizzen`. */
  controlPlaneId?: string;
  /** Log sink; default warnings and errors to stderr. */
  log?: XdsLogger;
  /**
   * The generator never mutates a resource object it has returned (it returns a new object for new
   * content), so an object handed to many proxies is encoded once. Pilot shares outbound clusters,
   * routes and endpoints across sidecars this way. Default false: every response is encoded afresh.
   */
  immutableResources?: boolean;
  /** Responses generated and written at once across all streams (Istio's PILOT_PUSH_THROTTLE); default 100. */
  pushThrottle?: number;
  /**
   * A response the client has not taken within this long gives its throttle slot back, ms; default 250.
   * The stream keeps waiting for it without a slot, so a client that stopped reading cannot hold up
   * pushes to the others.
   */
  slotTimeoutMs?: number;
  /**
   * A response of which the client has taken no byte for this long evicts the stream, ms; 0: never.
   * Default {@link DEFAULT_SEND_TIMEOUT_MS}. Counted in `pilot_xds_write_timeout`. istiod's
   * PILOT_XDS_SEND_TIMEOUT is the same rule (the send fails, the connection closes) and is off by default.
   */
  sendTimeoutMs?: number;
  /**
   * HTTP/2 keepalive and connection age towards the proxies (istiod's --keepaliveInterval,
   * --keepaliveTimeout, --keepaliveMaxServerConnectionAge): a proxy that vanished silently (a partition)
   * loses its streams, and old connections are closed gracefully so proxies spread over the replicas.
   * Fields left out take istiod's values ({@link ISTIOD_KEEPALIVE}).
   */
  keepalive?: Partial<ServerKeepalive>;
  /** Called when a stream has identified its proxy (first request with a node). */
  onProxyConnected?: (proxy: ProxyInfo) => void;
  /** Called when the stream of an identified proxy closed. */
  onProxyDisconnected?: (proxy: ProxyInfo) => void;
}

/**
 * Says what a push regenerates for a proxy: `true` or `'all'` every subscribed type, a set of type URLs
 * just those (Istio's per-type "needs push": a VirtualService edit cannot change a sidecar's clusters),
 * `false` or `null` nothing. Absent = every type for every proxy.
 */
export type ProxyFilter = (proxy: ProxyInfo) => boolean | PushTypes | null;

/** One proxy's state for a debug endpoint (like `istioctl proxy-status`). */
export interface ProxySyncStatus {
  /** Node id. */
  id: string;
  /** Unique per stream. */
  connectionId: string;
  /** Node metadata as plain JSON. */
  metadata: Record<string, unknown>;
  /** When the stream started (ms since epoch). */
  connectedAt: number;
  /** Per subscribed type URL. */
  types: Record<string, TypeStatus>;
}

/** Counters under Istio's metric names, as plain numbers for the metrics module. */
export interface AdsMetrics {
  /** Connected ADS streams (Istio's gauge `pilot_xds`). */
  pilot_xds: number;
  /** Responses sent, by type label `cds`, `eds`, `lds`, `rds`, `sds` (`pilot_xds_pushes{type}`). */
  pilot_xds_pushes: Record<string, number>;
  /** NACKs received, all types (`pilot_total_xds_rejects`). */
  pilot_total_xds_rejects: number;
  /** NACKs received by type label (Istio's `pilot_xds_cds_reject`, `pilot_xds_lds_reject`, ...). */
  pilot_xds_rejects: Record<string, number>;
  /** Requests ignored for carrying an outdated nonce, by type label (`pilot_xds_expired_nonce{type}`). */
  pilot_xds_expired_nonce: Record<string, number>;
  /** Streams evicted for not taking a response within the send timeout (`pilot_xds_write_timeout`). */
  pilot_xds_write_timeout: number;
  /** `pilot_proxy_convergence_time` totals: samples taken and their sum, seconds. */
  pilot_proxy_convergence_time: { count: number; sum: number };
}

const MAX_SAMPLES = 10000;

/** Serves ADS to Envoy, proxyless gRPC and Mizzen proxies. Call {@link listen}, then {@link push} on change. */
export class AdsServer {
  private readonly server: grpc.Server;
  private readonly streams = new Set<ServedStream>();
  private readonly debouncer: Debouncer<ProxyFilter | null>;
  private readonly log: XdsLogger;
  private readonly counters: AdsMetrics = {
    pilot_xds: 0,
    pilot_xds_pushes: {},
    pilot_total_xds_rejects: 0,
    pilot_xds_rejects: {},
    pilot_xds_expired_nonce: {},
    pilot_xds_write_timeout: 0,
    pilot_proxy_convergence_time: { count: 0, sum: 0 },
  };
  private samples: number[] = [];
  private listener: XdsListener | null = null;
  private versionCounter = 0;
  private readonly host: StreamHost;
  /** The keepalive in force (istiod's defaults under the options given). */
  readonly keepalive: ServerKeepalive;

  constructor(private readonly options: AdsServerOptions) {
    this.keepalive = { ...ISTIOD_KEEPALIVE, ...options.keepalive };
    this.server = new grpc.Server(keepaliveServerOptions(this.keepalive));
    this.log = options.log ?? stderrLogger;
    this.debouncer = new Debouncer<ProxyFilter | null>(
      { quietMs: options.debounceMs ?? 100, maxDelayMs: options.maxDebounceMs ?? 1000 },
      mergeFilters,
      (filter, firstAt) => void this.pushAt(filter ?? undefined, firstAt),
    );
    this.host = this.makeHost();
    this.server.addService(passSerializedResponses(adsServiceConstructor().service), {
      StreamAggregatedResources: (
        call: grpc.ServerDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage | SerializedResponse>,
      ) => {
        this.streams.add(new AdsStream(call, this.host));
      },
      // Incremental xDS (Envoy's ads_config api_type DELTA_GRPC, what istiod serves Envoy by default).
      DeltaAggregatedResources: (
        call: grpc.ServerDuplexStream<
          DeltaDiscoveryRequestMessage,
          DeltaDiscoveryResponseMessage | SerializedResponse
        >,
      ) => {
        this.streams.add(new DeltaAdsStream(call, this.host));
      },
    });
  }

  /** Serves another gRPC service on the same port (the CA, as istiod does on its xDS ports); call before listen. */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(service, implementation);
  }

  /**
   * Binds the listen address, with an accept queue as deep as the kernel allows (see xds-listener.ts:
   * 2000 proxies connecting at once overflow Node's default); resolves with the bound port.
   */
  async listen(): Promise<number> {
    const address = this.options.address ?? '0.0.0.0:15010';
    this.listener = await listenXds(this.server, grpc.ServerCredentials.createInsecure(), address, (err) =>
      this.log('warn', `ads: accepting a connection on ${address} failed: ${err.message}`),
    );
    return this.listener.port;
  }

  /** The bound port (0 before {@link listen} resolved). */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** The accept queue's length asked of the kernel (0 before {@link listen}, or for a host name gRPC bound). */
  get listenBacklog(): number {
    return this.listener?.backlog ?? 0;
  }

  /** Regenerates now what the filter selects (everything when absent) and sends the types whose content changed. */
  push(filter?: ProxyFilter): Promise<void> {
    return this.pushAt(filter, Date.now());
  }

  /** Debounced {@link push}: requests within the quiet period are merged into one push (selections united). */
  requestPush(filter?: ProxyFilter): void {
    this.debouncer.request(filter ?? null);
  }

  /** The connected proxies. */
  proxies(): ProxyInfo[] {
    return [...this.streams].flatMap((s) => (s.proxy ? [s.proxy] : []));
  }

  /** Per-proxy, per-type sent/acked versions, nonces and the last NACK. */
  syncStatus(): ProxySyncStatus[] {
    return [...this.streams].flatMap((s) =>
      s.proxy
        ? [
            {
              id: s.proxy.id,
              connectionId: s.proxy.connectionId,
              metadata: s.proxy.metadata,
              connectedAt: s.proxy.connectedAt,
              types: s.typeStatuses(),
            },
          ]
        : [],
    );
  }

  /** A snapshot of the counters. */
  metrics(): AdsMetrics {
    const c = this.counters;
    return {
      ...c,
      pilot_xds_pushes: { ...c.pilot_xds_pushes },
      pilot_xds_rejects: { ...c.pilot_xds_rejects },
      pilot_xds_expired_nonce: { ...c.pilot_xds_expired_nonce },
      pilot_proxy_convergence_time: { ...c.pilot_proxy_convergence_time },
    };
  }

  /** Returns and forgets the `pilot_proxy_convergence_time` samples (seconds) since the last call. */
  takeConvergenceSamples(): number[] {
    const out = this.samples;
    this.samples = [];
    return out;
  }

  /** Ends every stream and stops the server. */
  async close(): Promise<void> {
    this.debouncer.cancel();
    for (const stream of [...this.streams]) stream.end();
    // Let the OK statuses go out before the connections are torn down.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.listener?.close();
    this.server.forceShutdown();
  }

  private async pushAt(filter: ProxyFilter | undefined, triggeredAt: number): Promise<void> {
    const pushes: Array<Promise<void>> = [];
    for (const s of this.streams) {
      if (!s.proxy) continue;
      const types = filter ? selectedTypes(filter, s.proxy) : 'all';
      if (types !== null) pushes.push(s.push(triggeredAt, types));
    }
    await Promise.all(pushes);
  }

  private makeHost(): StreamHost {
    const c = this.counters;
    const bump = (map: Record<string, number>, typeUrl: string): void => {
      const key = shortTypeName(typeUrl);
      map[key] = (map[key] ?? 0) + 1;
    };
    return {
      generate: this.options.generate,
      log: this.log,
      controlPlaneId: this.options.controlPlaneId ?? 'mizzen',
      immutableResources: this.options.immutableResources ?? false,
      throttle: new PushThrottle(this.options.pushThrottle ?? 100),
      slotTimeoutMs: this.options.slotTimeoutMs ?? 250,
      sendTimeoutMs: this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      nextVersion: () => `${new Date().toISOString()}/${++this.versionCounter}`,
      onConnected: (stream) => {
        c.pilot_xds++;
        this.log('info', `ads: proxy ${stream.proxy!.id} connected from ${stream.proxy!.peer}`);
        this.options.onProxyConnected?.(stream.proxy!);
      },
      onClosed: (stream) => {
        if (!this.streams.delete(stream) || !stream.proxy) return;
        c.pilot_xds--;
        this.log('info', `ads: proxy ${stream.proxy.id} disconnected`);
        this.options.onProxyDisconnected?.(stream.proxy);
      },
      countPush: (typeUrl) => bump(c.pilot_xds_pushes, typeUrl),
      countReject: (typeUrl) => {
        c.pilot_total_xds_rejects++;
        bump(c.pilot_xds_rejects, typeUrl);
      },
      countExpiredNonce: (typeUrl) => bump(c.pilot_xds_expired_nonce, typeUrl),
      countWriteTimeout: () => c.pilot_xds_write_timeout++,
      recordConvergence: (seconds) => {
        c.pilot_proxy_convergence_time.count++;
        c.pilot_proxy_convergence_time.sum += seconds;
        if (this.samples.length >= MAX_SAMPLES) this.samples.shift();
        this.samples.push(seconds);
      },
    };
  }
}

/** The service with already serialized responses ({@link SerializedResponse}) written as they are. */
function passSerializedResponses(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const entries = Object.entries(service).map(([name, method]) => {
    const serialize = method.responseSerialize;
    const passing = (value: unknown): Buffer => {
      if (!(value instanceof SerializedResponse)) return serialize(value);
      return value.bytes;
    };
    return [name, { ...method, responseSerialize: passing }];
  });
  return Object.fromEntries(entries) as grpc.ServiceDefinition;
}

function mergeFilters(a: ProxyFilter | null, b: ProxyFilter | null): ProxyFilter | null {
  if (a === null || b === null) return null;
  return (p) => unionTypes(selectedTypes(a, p), selectedTypes(b, p));
}

/** What `filter` selects for the proxy, normalized: 'all', a non-empty set of type URLs, or null. */
function selectedTypes(filter: ProxyFilter, proxy: ProxyInfo): PushTypes | null {
  let r: ReturnType<ProxyFilter>;
  try {
    r = filter(proxy);
  } catch {
    return 'all'; // A broken filter must not leave a proxy stale.
  }
  if (r === true || r === 'all') return 'all';
  if (r === false || r === null || r.size === 0) return null;
  return r;
}

function unionTypes(a: PushTypes | null, b: PushTypes | null): PushTypes | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a === 'all' || b === 'all') return 'all';
  return new Set([...a, ...b]);
}
