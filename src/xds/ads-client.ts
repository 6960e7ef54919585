// The ADS client of the Mizzen proxy: one stream, Delta ADS (incremental xDS, as Envoy and istiod use
// by default) or state of the world; CDS and LDS wildcard plus the EDS/RDS names the proxy asks for;
// ACK/NACK; keeps the last good state; reconnects with backoff, failing over between several
// control-plane addresses; falls back to state of the world when the server does not serve delta.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { adsServiceConstructor } from './ads-service.js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
} from './ads-service.js';
import type { XdsLogger } from './logger.js';
import { stderrLogger } from './logger.js';
import type { CanonicalObject } from './protos.js';
import { decodeResource } from './protos.js';
import { structFromJson } from './struct.js';
import { isNamespacedType, namespaceOf, shortTypeName, TypeUrl } from './type-urls.js';

/** HTTP/2 stream and connection window of an ADS client, bytes (Envoy's default initial windows are 256 MiB). */
export const ADS_FLOW_CONTROL_WINDOW = 256 * 1024 * 1024;

/**
 * Applies the full set of resources of one type. Return (or throw) an Error to reject the update:
 * the client NACKs with the error's message (name the resource and field in it) and keeps the last
 * good state; otherwise it ACKs.
 */
export type ResourceHandler = (
  typeUrl: string,
  resources: CanonicalObject[],
  version: string,
  /**
   * Delta: an object the handler had before is an unchanged resource and a new object a changed one
   * (the server sends a resource only when its version differs). State of the world: every object is
   * new, changed or not.
   */
  incremental: boolean,
) => void | Error | Promise<void | Error>;

/** Settings of an {@link AdsClient}. */
export interface AdsClientOptions {
  /**
   * Control plane address(es), `host:port`: a list, or one string with addresses separated by commas.
   * With several, a stream that fails or ends moves to the next address (round robin); the last good
   * state keeps serving meanwhile.
   */
  server: string | readonly string[];
  /** The proxy's identity. */
  node: {
    /** Node id, e.g. `sidecar~127.1.0.2~reviews-v1-0.default~default.svc.cluster.local`. */
    id: string;
    /** Service cluster; optional. */
    cluster?: string;
    /** Node metadata as plain JSON (sent as a Struct). */
    metadata?: Record<string, unknown>;
    /** Where the proxy runs (the bootstrap's node.locality); sent when set. */
    locality?: { region?: string; zone?: string; subZone?: string };
    /** The node's `client_features` (e.g. `io.mizzen.vhds`: the proxy applies VHDS); sent when set. */
    clientFeatures?: readonly string[];
  };
  /** Receives each accepted-or-rejected update. */
  onResources: ResourceHandler;
  /** First reconnect delay, ms; default 100. Doubles per failed attempt, jittered ±20 %. */
  initialBackoffMs?: number;
  /** Largest reconnect delay, ms; default 15000. */
  maxBackoffMs?: number;
  /** Types subscribed with a wildcard at start; default CDS and LDS. */
  wildcardTypes?: string[];
  /** Log sink; default warnings and errors to stderr. */
  log?: XdsLogger;
  /**
   * ADS variant (Envoy's bootstrap `ads_config.api_type`): `delta` (DELTA_GRPC, incremental: only changed
   * resources travel) or `sotw` (GRPC, every resource of a type in each response). Default `delta`, falling
   * back to `sotw` for good when the server answers UNIMPLEMENTED (a control plane without delta xDS).
   */
  protocol?: AdsProtocol;
  /**
   * HTTP/2 keepalive of the connection to the control plane (Envoy's `connection_keepalive` of the xDS
   * cluster): a PING every `intervalMs`, the connection dropped (and the stream moved on) when no answer
   * comes within `timeoutMs`. Default 30 s / 10 s, Istio's keepalive for xDS.
   */
  keepalive?: { intervalMs: number; timeoutMs: number };
  /**
   * TCP keepalive of the connection (Envoy's `upstream_connection_options.tcp_keepalive` of the xDS
   * cluster): idle ms before the first probe. Default off.
   */
  tcpKeepaliveMs?: number;
}

type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/**
 * Plaintext credentials that turn TCP keepalive on for every connection the channel opens: grpc-js hands
 * its credentials each new TCP socket, the only hook it has on the socket.
 */
class TcpKeepaliveCredentials extends grpc.ChannelCredentials {
  constructor(private readonly timeMs: number) {
    super();
  }
  _isSecure(): boolean {
    return false;
  }
  _equals(other: grpc.ChannelCredentials): boolean {
    return other instanceof TcpKeepaliveCredentials && other.timeMs === this.timeMs;
  }
  _createSecureConnector(): SecureConnector {
    return {
      connect: (socket) => {
        socket.setKeepAlive(true, this.timeMs);
        return Promise.resolve({ socket, secure: false });
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => grpc.CallCredentials.createEmpty(),
      destroy: () => {},
    };
  }
}

/** The ADS variant an {@link AdsClient} speaks. */
export type AdsProtocol = 'delta' | 'sotw';

/** Events: `connected` (first response on a stream; the address), `disconnected` (reason), `ack`/`nack` (typeUrl, version, message?). */
export interface AdsClientEvents {
  connected: [server: string];
  disconnected: [reason: string];
  ack: [typeUrl: string, version: string];
  nack: [typeUrl: string, version: string, message: string];
}

/** The last accepted update of one type. */
export interface AcceptedState {
  /** Version the client ACKed. */
  version: string;
  /** The resources, canonical form. */
  resources: CanonicalObject[];
}

type Call = grpc.ClientDuplexStream<
  DiscoveryRequestMessage | DeltaDiscoveryRequestMessage,
  DiscoveryResponseMessage | DeltaDiscoveryResponseMessage
>;

/** A resource held on a delta stream: the version the server gave it and its decoded form. */
interface HeldResource {
  version: string;
  resource: CanonicalObject;
}

/** Keeps one ADS stream to the control plane alive and feeds the proxy. Call {@link start}. */
export class AdsClient extends EventEmitter<AdsClientEvents> {
  private readonly subscriptions = new Map<string, string[]>();
  private readonly accepted = new Map<string, AcceptedState>();
  private readonly lastNonce = new Map<string, string>();
  private readonly log: XdsLogger;
  private client: grpc.Client | null = null;
  private call: Call | null = null;
  private queue: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private streamConnected = false;
  private closed = false;
  private readonly servers: readonly string[];
  private serverIndex = 0;
  private protocolInUse: AdsProtocol;
  /** Delta: per type, the accepted resources by name (kept across reconnects for initial_resource_versions). */
  private readonly held = new Map<string, Map<string, HeldResource>>();
  /** Delta: per type, the names subscribed on the current stream. */
  private readonly streamNames = new Map<string, ReadonlySet<string>>();

  constructor(private readonly options: AdsClientOptions) {
    super();
    this.log = options.log ?? stderrLogger;
    this.servers = parseServers(options.server);
    this.protocolInUse = options.protocol ?? 'delta';
    if (this.servers.length === 0) throw new Error('ads: no control plane address given');
    for (const typeUrl of options.wildcardTypes ?? [TypeUrl.CLUSTER, TypeUrl.LISTENER]) {
      this.subscriptions.set(typeUrl, []);
    }
  }

  /** The address the client streams from (or tries next). */
  get server(): string {
    return this.servers[this.serverIndex];
  }

  /** The ADS variant in use (delta until a server without it made the client fall back). */
  get protocol(): AdsProtocol {
    return this.protocolInUse;
  }

  /** True while a stream is up and has received at least one response. */
  get connected(): boolean {
    return this.streamConnected;
  }

  /** Opens the stream (and keeps reopening it until {@link close}). */
  start(): void {
    if (this.closed || this.call) return;
    this.openStream();
  }

  /**
   * Sets the names subscribed for a type (EDS cluster names, RDS route config names). An empty list
   * unsubscribes all names (for LDS/CDS it means wildcard).
   */
  subscribe(typeUrl: string, names: string[]): void {
    const sorted = [...new Set(names)].sort();
    const current = this.subscriptions.get(typeUrl);
    if (current && current.length === sorted.length && current.every((n, i) => n === sorted[i])) return;
    if (!current && sorted.length === 0) return;
    this.subscriptions.set(typeUrl, sorted);
    if (!this.call) return;
    if (this.protocolInUse === 'delta') this.sendDeltaSubscription(typeUrl);
    else this.sendRequest(typeUrl, this.lastNonce.get(typeUrl) ?? '');
  }

  /** The last accepted resources of a type, kept across disconnects. */
  lastGood(typeUrl: string): AcceptedState | undefined {
    return this.accepted.get(typeUrl);
  }

  /** Stops reconnecting and ends the stream. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.dropStream('client closed');
  }

  private openStream(): void {
    const Ctor = adsServiceConstructor();
    const ka = this.options.tcpKeepaliveMs;
    const creds =
      ka !== undefined && ka >= 0 ? new TcpKeepaliveCredentials(ka) : grpc.credentials.createInsecure();
    this.client = new Ctor(this.server, creds, {
      'grpc.keepalive_time_ms': this.options.keepalive?.intervalMs ?? 30000,
      'grpc.keepalive_timeout_ms': this.options.keepalive?.timeoutMs ?? 10000,
      'grpc.initial_reconnect_backoff_ms': this.options.initialBackoffMs ?? 100,
      'grpc.max_reconnect_backoff_ms': this.options.maxBackoffMs ?? 15000,
      // A mesh of 1000 services is ~3 MiB per type: gRPC's 4 MiB default would refuse a bigger one.
      'grpc.max_receive_message_length': -1,
      // HTTP/2 windows as large as Envoy's defaults (256 MiB): with 64 KiB every 64 KiB of a response
      // waits for a WINDOW_UPDATE, and a busy control plane pushes at the pace of event-loop round trips.
      'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
    });
    const delta = this.protocolInUse === 'delta';
    const call = (
      delta
        ? (this.client as any).DeltaAggregatedResources()
        : (this.client as any).StreamAggregatedResources()
    ) as Call;
    this.call = call;
    this.lastNonce.clear();
    this.streamNames.clear();
    call.on('data', (res: DiscoveryResponseMessage | DeltaDiscoveryResponseMessage) =>
      this.enqueue(call, () =>
        delta
          ? this.onDeltaResponse(call, res as DeltaDiscoveryResponseMessage)
          : this.onResponse(call, res as DiscoveryResponseMessage),
      ),
    );
    call.on('error', (err: grpc.ServiceError) => {
      if (delta && err.code === grpc.status.UNIMPLEMENTED && call === this.call) {
        this.log('info', `ads: ${this.server} does not serve delta xDS; using state of the world`);
        this.protocolInUse = 'sotw';
        this.dropStream('delta xDS unimplemented');
        if (!this.closed) this.openStream();
        return;
      }
      this.onStreamEnd(call, `${grpc.status[err.code] ?? err.code}: ${err.details}`);
    });
    call.on('end', () => this.onStreamEnd(call, 'stream ended by the server'));
    let first = true;
    for (const typeUrl of this.subscriptions.keys()) {
      if (delta) this.sendDeltaSubscription(typeUrl, first);
      else this.sendRequest(typeUrl, '', first);
      first = false;
    }
  }

  private nodeMessage(): DiscoveryRequestMessage['node'] {
    const { id, cluster, metadata, locality, clientFeatures } = this.options.node;
    return {
      id,
      cluster,
      metadata: structFromJson(metadata ?? {}),
      ...(locality ? { locality } : {}),
      ...(clientFeatures?.length ? { clientFeatures: [...clientFeatures] } : {}),
      userAgentName: 'mizzen',
    };
  }

  /**
   * Delta: tells the server how the subscription of a type changed since the last request on this stream.
   * The first request of a type carries the versions held from an earlier stream, so the server sends only
   * what changed meanwhile; LDS/CDS with no names are a wildcard.
   */
  private sendDeltaSubscription(typeUrl: string, withNode = false): void {
    if (!this.call) return;
    const want = this.subscriptions.get(typeUrl) ?? [];
    const current = this.streamNames.get(typeUrl);
    const req: DeltaDiscoveryRequestMessage = { typeUrl };
    if (!current) {
      req.resourceNamesSubscribe = want;
      const held = this.held.get(typeUrl);
      if (held && held.size > 0)
        req.initialResourceVersions = Object.fromEntries([...held].map(([n, r]) => [n, r.version]));
    } else {
      req.resourceNamesSubscribe = want.filter((n) => !current.has(n));
      const wanted = new Set(want);
      req.resourceNamesUnsubscribe = [...current].filter((n) => !wanted.has(n));
      if (req.resourceNamesSubscribe.length === 0 && req.resourceNamesUnsubscribe.length === 0) return;
      // Resources no longer subscribed are forgotten, as Envoy does (VHDS: every one in the namespace).
      const held = this.held.get(typeUrl);
      if (held && isNamespacedType(typeUrl)) {
        const gone = new Set(req.resourceNamesUnsubscribe);
        for (const n of [...held.keys()]) if (gone.has(namespaceOf(n))) held.delete(n);
      } else if (held) for (const n of req.resourceNamesUnsubscribe) held.delete(n);
    }
    this.streamNames.set(typeUrl, new Set(want));
    if (withNode) req.node = this.nodeMessage();
    this.writeRequest(typeUrl, req);
  }

  private writeRequest(typeUrl: string, req: DiscoveryRequestMessage | DeltaDiscoveryRequestMessage): void {
    try {
      this.call?.write(req);
    } catch (err) {
      this.log('warn', `ads: cannot send ${shortTypeName(typeUrl)} request: ${(err as Error).message}`);
    }
  }

  /**
   * Delta: applies the changed and removed resources on top of those held, hands the proxy the whole
   * resulting set of the type (what it applies, as with state of the world), and ACKs; on a rejection it
   * NACKs and keeps holding (and serving) the previous set.
   */
  private async onDeltaResponse(call: Call, res: DeltaDiscoveryResponseMessage): Promise<void> {
    this.markConnected();
    const typeUrl = res.typeUrl ?? '';
    const version = res.systemVersionInfo ?? '';
    const nonce = res.nonce ?? '';
    const next = new Map(this.held.get(typeUrl));
    let error: string | null = null;
    for (const [i, r] of (res.resources ?? []).entries()) {
      const any = r.resource;
      if (!any) continue;
      if (any.type_url !== typeUrl) {
        error = `resource ${i}: type ${any.type_url} in a ${typeUrl} response`;
        break;
      }
      const name = r.name ?? '';
      const held = r.version ?? '';
      // Sent again at the version already held (a resubscription): keep the object, so the proxy sees it unchanged.
      if (held !== '' && next.get(name)?.version === held) continue;
      try {
        next.set(name, { version: held, resource: decodeResource(any) });
      } catch (err) {
        error = `resource ${r.name ?? i}: ${(err as Error).message}`;
        break;
      }
    }
    for (const n of res.removedResources ?? []) next.delete(n);
    if (error === null) {
      const resources = [...next.values()].map((h) => h.resource);
      error = await this.handOver(typeUrl, resources, version, true);
      if (error === null) this.held.set(typeUrl, next);
    }
    if (call !== this.call) return;
    const ack: DeltaDiscoveryRequestMessage = { typeUrl, responseNonce: nonce };
    if (error !== null) ack.errorDetail = { code: 3, message: error };
    this.writeRequest(typeUrl, ack);
    this.reportOutcome(typeUrl, version, error);
  }

  private markConnected(): void {
    if (this.streamConnected) return;
    this.streamConnected = true;
    this.attempt = 0;
    this.emit('connected', this.server);
  }

  private reportOutcome(typeUrl: string, version: string, error: string | null): void {
    if (error) {
      this.log('warn', `ads: rejected ${shortTypeName(typeUrl)} version ${version}: ${error}`);
      this.emit('nack', typeUrl, version, error);
    } else {
      this.emit('ack', typeUrl, version);
    }
  }

  private sendRequest(typeUrl: string, nonce: string, withNode = false, error?: string): void {
    if (!this.call) return;
    const req: DiscoveryRequestMessage = {
      versionInfo: this.accepted.get(typeUrl)?.version ?? '',
      resourceNames: this.subscriptions.get(typeUrl) ?? [],
      typeUrl,
      responseNonce: nonce,
    };
    if (withNode) req.node = this.nodeMessage();
    if (error !== undefined) req.errorDetail = { code: 3, message: error };
    this.writeRequest(typeUrl, req);
  }

  private enqueue(call: Call, step: () => Promise<void>): void {
    this.queue = this.queue
      .then(() => (call === this.call ? step() : undefined))
      .catch((err: unknown) => this.log('error', `ads: ${(err as Error).stack ?? String(err)}`));
  }

  private async onResponse(call: Call, res: DiscoveryResponseMessage): Promise<void> {
    this.markConnected();
    const typeUrl = res.typeUrl ?? '';
    const version = res.versionInfo ?? '';
    const nonce = res.nonce ?? '';
    this.lastNonce.set(typeUrl, nonce);
    const error = await this.apply(typeUrl, res, version);
    if (call !== this.call) return;
    if (error) this.sendRequest(typeUrl, nonce, false, error);
    else this.sendRequest(typeUrl, nonce);
    this.reportOutcome(typeUrl, version, error);
  }

  /** Decodes and hands over one response; returns the NACK message, or null when accepted. */
  private async apply(
    typeUrl: string,
    res: DiscoveryResponseMessage,
    version: string,
  ): Promise<string | null> {
    const resources: CanonicalObject[] = [];
    for (const [i, any] of (res.resources ?? []).entries()) {
      if (any.type_url !== typeUrl) return `resource ${i}: type ${any.type_url} in a ${typeUrl} response`;
      try {
        resources.push(decodeResource(any));
      } catch (err) {
        return `resource ${i}: ${(err as Error).message}`;
      }
    }
    return this.handOver(typeUrl, resources, version, false);
  }

  /** Gives the proxy the whole set of a type; returns the NACK message, or null when accepted. */
  private async handOver(
    typeUrl: string,
    resources: CanonicalObject[],
    version: string,
    incremental: boolean,
  ): Promise<string | null> {
    try {
      const result = await this.options.onResources(typeUrl, resources, version, incremental);
      if (result instanceof Error) return result.message;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    this.accepted.set(typeUrl, { version, resources });
    return null;
  }

  private onStreamEnd(call: Call, reason: string): void {
    if (call !== this.call) return;
    this.dropStream(reason);
    if (this.closed) return;
    const from = this.server;
    // Fail over: the next attempt goes to the next address (a replica that is up answers at once).
    this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    const base = Math.min(
      this.options.maxBackoffMs ?? 15000,
      (this.options.initialBackoffMs ?? 100) * 2 ** this.attempt,
    );
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.attempt++;
    this.log('debug', `ads: stream to ${from} down (${reason}), trying ${this.server} in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.openStream();
    }, delay);
  }

  private dropStream(reason: string): void {
    const call = this.call;
    this.call = null;
    if (call) {
      call.removeAllListeners('data');
      call.on('error', () => {});
      try {
        call.cancel();
      } catch {}
    }
    this.client?.close();
    this.client = null;
    if (this.streamConnected) {
      this.streamConnected = false;
      this.emit('disconnected', reason);
    }
  }
}

/** The addresses of `server`: a list, or one string separated by commas. */
function parseServers(server: string | readonly string[]): string[] {
  const list = typeof server === 'string' ? server.split(',') : server;
  return list.map((s) => s.trim()).filter(Boolean);
}
