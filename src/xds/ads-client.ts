// The ADS client of the Mizzen proxy: one state-of-the-world stream, CDS and LDS wildcard plus
// the EDS/RDS names the proxy asks for; ACK/NACK; keeps the last good state; reconnects with backoff,
// failing over between several control-plane addresses.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { adsServiceConstructor } from './ads-service.js';
import type { DiscoveryRequestMessage, DiscoveryResponseMessage } from './ads-service.js';
import type { XdsLogger } from './logger.js';
import { stderrLogger } from './logger.js';
import type { CanonicalObject } from './protos.js';
import { decodeResource } from './protos.js';
import { structFromJson } from './struct.js';
import { shortTypeName, TypeUrl } from './type-urls.js';

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
}

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

type Call = grpc.ClientDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage>;

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

  constructor(private readonly options: AdsClientOptions) {
    super();
    this.log = options.log ?? stderrLogger;
    this.servers = parseServers(options.server);
    if (this.servers.length === 0) throw new Error('ads: no control plane address given');
    for (const typeUrl of options.wildcardTypes ?? [TypeUrl.CLUSTER, TypeUrl.LISTENER]) {
      this.subscriptions.set(typeUrl, []);
    }
  }

  /** The address the client streams from (or tries next). */
  get server(): string {
    return this.servers[this.serverIndex];
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
    if (this.call) this.sendRequest(typeUrl, this.lastNonce.get(typeUrl) ?? '');
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
    this.client = new Ctor(this.server, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30000,
      'grpc.keepalive_timeout_ms': 10000,
      'grpc.initial_reconnect_backoff_ms': this.options.initialBackoffMs ?? 100,
      'grpc.max_reconnect_backoff_ms': this.options.maxBackoffMs ?? 15000,
      // A mesh of 1000 services is ~3 MiB per type: gRPC's 4 MiB default would refuse a bigger one.
      'grpc.max_receive_message_length': -1,
      // HTTP/2 windows as large as Envoy's defaults (256 MiB): with 64 KiB every 64 KiB of a response
      // waits for a WINDOW_UPDATE, and a busy control plane pushes at the pace of event-loop round trips.
      'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
    });
    const call = (this.client as any).StreamAggregatedResources() as Call;
    this.call = call;
    this.lastNonce.clear();
    call.on('data', (res: DiscoveryResponseMessage) => this.enqueue(call, () => this.onResponse(call, res)));
    call.on('error', (err: grpc.ServiceError) =>
      this.onStreamEnd(call, `${grpc.status[err.code] ?? err.code}: ${err.details}`),
    );
    call.on('end', () => this.onStreamEnd(call, 'stream ended by the server'));
    let first = true;
    for (const typeUrl of this.subscriptions.keys()) {
      this.sendRequest(typeUrl, '', first);
      first = false;
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
    if (withNode) {
      const { id, cluster, metadata } = this.options.node;
      req.node = { id, cluster, metadata: structFromJson(metadata ?? {}), userAgentName: 'mizzen' };
    }
    if (error !== undefined) req.errorDetail = { code: 3, message: error };
    try {
      this.call.write(req);
    } catch (err) {
      this.log('warn', `ads: cannot send ${shortTypeName(typeUrl)} request: ${(err as Error).message}`);
    }
  }

  private enqueue(call: Call, step: () => Promise<void>): void {
    this.queue = this.queue
      .then(() => (call === this.call ? step() : undefined))
      .catch((err: unknown) => this.log('error', `ads: ${(err as Error).stack ?? String(err)}`));
  }

  private async onResponse(call: Call, res: DiscoveryResponseMessage): Promise<void> {
    if (!this.streamConnected) {
      this.streamConnected = true;
      this.attempt = 0;
      this.emit('connected', this.server);
    }
    const typeUrl = res.typeUrl ?? '';
    const version = res.versionInfo ?? '';
    const nonce = res.nonce ?? '';
    this.lastNonce.set(typeUrl, nonce);
    const error = await this.apply(typeUrl, res, version);
    if (call !== this.call) return;
    if (error) {
      this.log('warn', `ads: rejected ${shortTypeName(typeUrl)} version ${version}: ${error}`);
      this.sendRequest(typeUrl, nonce, false, error);
      this.emit('nack', typeUrl, version, error);
    } else {
      this.sendRequest(typeUrl, nonce);
      this.emit('ack', typeUrl, version);
    }
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
    try {
      const result = await this.options.onResources(typeUrl, resources, version);
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
