// One ADS stream on the server: node identity, per-type subscriptions, versions and nonces,
// ACK/NACK bookkeeping, and sending a type only when its generated content changed.
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequestMessage, DiscoveryResponseMessage, NodeMessage } from './ads-service.js';
import type { AnyMessage, CanonicalObject } from './protos.js';
import { encodeResource, resourceName } from './protos.js';
import {
  encodeDiscoveryResponse,
  resourceDigest,
  type SerializedResponse,
} from './discovery-response-bytes.js';
import { resetHttp2Stream, ResponseWriter, settledWithin } from './response-writer.js';
import type { PushThrottle } from './push-throttle.js';
import { structToJson } from './struct.js';
import { subscriptionNames, type SubscriptionNames } from './subscription-names.js';
import {
  encodedAnys,
  encodedByName,
  encodedNames,
  encodedSize,
  sharedPrefixOf,
  type Encoded,
} from './encoded-list.js';
import { isWildcardType, PUSH_ORDER, shortTypeName, VHDS_CLIENT_FEATURE } from './type-urls.js';

/** What the server knows about a connected proxy (from the first DiscoveryRequest). */
export interface ProxyInfo {
  /** Node id, e.g. `sidecar~127.1.0.2~reviews-v1-0.default~default.svc.cluster.local`. */
  readonly id: string;
  /** Node metadata as plain JSON (NAMESPACE, LABELS, ...). */
  readonly metadata: Record<string, unknown>;
  /** The node message as received. */
  readonly node: NodeMessage;
  /** Unique per stream: `<id>-<n>`. */
  readonly connectionId: string;
  /** When the stream started (ms since epoch). */
  readonly connectedAt: number;
  /** The peer address of the stream. */
  readonly peer: string;
  /**
   * The proxy gets its sidecar route configurations over VHDS: a delta stream whose node lists
   * {@link VHDS_CLIENT_FEATURE} among its `client_features`.
   */
  readonly vhds: boolean;
}

/** What one push regenerates: every subscribed type, or just these type URLs. */
export type PushTypes = 'all' | ReadonlySet<string>;

/** A resource in canonical form; its name is `name` (or `clusterName` for a ClusterLoadAssignment). */
export type Resource = CanonicalObject;

/**
 * Produces the resources of one type for one proxy. `resourceNames` is the proxy's subscription:
 * empty means wildcard (LDS/CDS only; EDS/RDS/SDS with no names are not asked). Resources outside a
 * non-empty subscription are dropped by the server, so a generator may ignore the names.
 * May be async; calls for one proxy never overlap.
 */
export type GenerateFn = (
  proxy: ProxyInfo,
  typeUrl: string,
  resourceNames: readonly string[],
) => readonly Resource[] | Promise<readonly Resource[]>;

/** A rejected response, as recorded for the sync status. */
export interface NackRecord {
  /** Version of the rejected response. */
  version: string;
  /** Nonce of the rejected response. */
  nonce: string;
  /** The client's error_detail message. */
  message: string;
  /** When the NACK arrived (ms since epoch). */
  at: number;
}

/** Per-type state of one stream, as shown by the sync status. */
export interface TypeStatus {
  /** Version of the last response sent ('' before the first). */
  sent: string;
  /** Version the proxy last ACKed ('' before the first ACK). */
  acked: string;
  /** Nonce of the last response sent. */
  nonce: string;
  /** Subscribed names (empty = wildcard for LDS/CDS). */
  resourceNames: readonly string[];
  /** Number of resources in the last response sent. */
  resourceCount: number;
  /** The most recent NACK, if any. */
  lastNack?: NackRecord;
}

/** An ADS stream as its server sees it: state of the world ({@link AdsStream}) or delta. */
export interface ServedStream {
  /** Known once the first request arrived. */
  readonly proxy: ProxyInfo | null;
  /** Regenerates the subscribed types among `only` and sends what changed. */
  push(triggeredAt: number, only?: PushTypes): Promise<void>;
  /** Ends the stream with OK status. */
  end(): void;
  /** Per-type status for the debug endpoint. */
  typeStatuses(): Record<string, TypeStatus>;
}

/** What a stream needs from its server: generation, logging, counters and fresh versions. */
export interface StreamHost {
  generate: GenerateFn;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  nextVersion(): string;
  controlPlaneId: string;
  /** Resource objects are never mutated once returned: encodings may be reused by object. */
  immutableResources: boolean;
  /** Bounds the responses being generated and written at once, across streams. */
  throttle: PushThrottle;
  /** A response not taken by the client within this long frees its throttle slot, ms. */
  slotTimeoutMs: number;
  /** A response not taken by the client within this long evicts the stream, ms. */
  sendTimeoutMs: number;
  onConnected(stream: ServedStream): void;
  onClosed(stream: ServedStream): void;
  countPush(typeUrl: string): void;
  countReject(typeUrl: string): void;
  countExpiredNonce(typeUrl: string): void;
  /** A stream was evicted for not taking a response within `sendTimeoutMs`. */
  countWriteTimeout(): void;
  recordConvergence(seconds: number): void;
}

export type { Encoded } from './encoded-list.js';

interface Watch {
  /** Subscribed names, shared with every stream subscribed to the same names. */
  subs: SubscriptionNames;
  status: TypeStatus;
  /**
   * The resources last sent, in order: to skip unchanged pushes, and as the last good encoding of a
   * resource that fails to encode when regenerated. Two flat arrays, as thousands of proxies hold one each.
   */
  sent: Encoded | null;
}

let streamCounter = 0;

/** Server side of one StreamAggregatedResources call. All work on it runs one step at a time. */
export class AdsStream implements ServedStream {
  proxy: ProxyInfo | null = null;
  private readonly watches = new Map<string, Watch>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** A push queued behind other work and not started yet: later pushes join it. */
  private pendingPush: { triggeredAt: number; types: PushTypes; done: Promise<void> } | null = null;
  /** Writes one response at a time and notices a client that stopped reading. */
  private readonly writer: ResponseWriter;

  constructor(
    private readonly call: grpc.ServerDuplexStream<
      DiscoveryRequestMessage,
      DiscoveryResponseMessage | SerializedResponse
    >,
    private readonly host: StreamHost,
  ) {
    this.writer = new ResponseWriter(call, host.sendTimeoutMs, () => this.evict());
    call.on('data', (req: DiscoveryRequestMessage) => void this.enqueue(() => this.onRequest(req)));
    call.on('end', () => this.close(true));
    call.on('cancelled', () => this.close(false));
    call.on('error', () => this.close(false));
    call.on('close', () => this.close(false));
  }

  /** Per-type status for the debug endpoint. */
  typeStatuses(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, watch] of this.watches) out[typeUrl] = { ...watch.status };
    return out;
  }

  /**
   * Regenerates the subscribed types among `only` (CDS → EDS → LDS → RDS → SDS → others) and sends the
   * changed ones. Pushes requested while one is still queued are merged into it (types united; it
   * regenerates from the newest config).
   */
  push(triggeredAt: number, only: PushTypes = 'all'): Promise<void> {
    const pending = this.pendingPush;
    if (pending) {
      pending.triggeredAt = Math.min(pending.triggeredAt, triggeredAt);
      if (pending.types !== 'all')
        pending.types = only === 'all' ? 'all' : new Set([...pending.types, ...only]);
      return pending.done;
    }
    const entry = { triggeredAt, types: only, done: Promise.resolve() };
    this.pendingPush = entry;
    entry.done = this.enqueue(async () => {
      this.pendingPush = null;
      const wanted = entry.types;
      const types = [...this.watches.keys()]
        .filter((t) => wanted === 'all' || wanted.has(t))
        .sort((a, b) => rank(a) - rank(b));
      let sent = false;
      for (const typeUrl of types) sent = (await this.respond(typeUrl, false)) || sent;
      if (sent) this.host.recordConvergence((Date.now() - entry.triggeredAt) / 1000);
    });
    return entry.done;
  }

  /** Ends the stream with OK status. */
  end(): void {
    if (this.closed) return;
    try {
      this.call.end();
    } catch {}
    this.close(false);
  }

  private enqueue(step: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(async () => {
      if (!this.closed) await step();
    });
    this.queue = next.catch((err: unknown) => {
      this.host.log(
        'error',
        `ads stream ${this.proxy?.connectionId ?? '?'}: ${(err as Error).stack ?? String(err)}`,
      );
    });
    return this.queue;
  }

  private async onRequest(req: DiscoveryRequestMessage): Promise<void> {
    if (!this.proxy) {
      const id = req.node?.id;
      if (!id) return this.fail('the first DiscoveryRequest of a stream must carry node.id');
      this.proxy = makeProxyInfo(req.node!, this.call.getPeer());
      this.host.onConnected(this);
    }
    const typeUrl = req.typeUrl ?? '';
    if (!typeUrl)
      return this.host.log('warn', `proxy ${this.proxy.id} sent a DiscoveryRequest without type_url`);
    const names = subscriptionNames(req.resourceNames ?? []);
    const nonce = req.responseNonce ?? '';
    const watch = this.watches.get(typeUrl);
    if (nonce === '' || !watch) {
      // Initial request for this type on this stream: always answer.
      this.watches.set(typeUrl, newWatch(names));
      await this.respond(typeUrl, true);
      return;
    }
    if (nonce !== watch.status.nonce) {
      this.host.countExpiredNonce(typeUrl);
      return; // A reply to an older response; the newest one is still in flight.
    }
    if (req.errorDetail) return this.recordNack(typeUrl, watch, req);
    watch.status.acked = req.versionInfo ?? '';
    if (names !== watch.subs) {
      watch.subs = names;
      watch.status.resourceNames = names.list;
      await this.respond(typeUrl, true);
    }
  }

  private recordNack(typeUrl: string, watch: Watch, req: DiscoveryRequestMessage): void {
    const message = req.errorDetail?.message ?? '';
    const version = watch.status.sent;
    watch.status.lastNack = { version, nonce: watch.status.nonce, message, at: Date.now() };
    this.host.countReject(typeUrl);
    this.host.log(
      'warn',
      `proxy ${this.proxy!.id} rejected ${shortTypeName(typeUrl)} version ${version}: ${message}`,
    );
  }

  /**
   * Generates and sends one type; returns whether a response was sent. Generating and writing hold a
   * slot of the server's push throttle, but a response the client does not take within `slotTimeoutMs`
   * gives its slot back: a client that stopped reading (HTTP/2 window 0) must not hold up the pushes
   * of healthy ones. The stream itself still waits for that response (its later pushes queue behind
   * it, so nothing piles up in memory) until the client takes it or `sendTimeoutMs` evicts the stream.
   */
  private async respond(typeUrl: string, force: boolean): Promise<boolean> {
    const started = await this.host.throttle.run(async () => {
      const s = await this.respondNow(typeUrl, force);
      if (s) await settledWithin(s.written, this.host.slotTimeoutMs);
      return s;
    });
    if (!started) return false;
    await started.written;
    return true;
  }

  /** Generates one type and starts writing it if it changed; resolves with the write under way (or null). */
  private async respondNow(typeUrl: string, force: boolean): Promise<{ written: Promise<void> } | null> {
    const watch = this.watches.get(typeUrl);
    if (!watch || !this.proxy) return null;
    const names = watch.subs;
    const wildcard = isWildcardType(typeUrl) && (names.list.length === 0 || names.set.has('*'));
    let generated: readonly Resource[] = [];
    if (wildcard || names.list.length > 0) {
      try {
        generated = await this.host.generate(this.proxy, typeUrl, wildcard ? [] : names.list);
      } catch (err) {
        this.host.log(
          'error',
          `generating ${shortTypeName(typeUrl)} for ${this.proxy.id}: ${(err as Error).message}`,
        );
        return null;
      }
      // Generators usually return just the names asked for: then the (shared) list is kept as it is.
      if (!wildcard && !generated.every((r) => names.set.has(resourceName(r))))
        generated = generated.filter((r) => names.set.has(resourceName(r)));
    }
    const sent = watch.sent;
    const encoded = encodeResources(this.host, this.proxy.id, typeUrl, generated, (name) =>
      sent ? encodedByName(sent, name) : undefined,
    );
    if (!force && watch.sent !== null && sameContent(encoded, watch.sent)) return null;
    if (this.closed) return null;
    const version = this.host.nextVersion();
    const nonce = randomBytes(8).toString('hex');
    const header = { versionInfo: version, typeUrl, nonce, controlPlaneId: this.host.controlPlaneId };
    watch.sent = encoded;
    watch.status.sent = version;
    watch.status.nonce = nonce;
    watch.status.resourceCount = encodedSize(encoded);
    this.host.countPush(typeUrl);
    return { written: this.writer.write(() => encodeDiscoveryResponse(header, encodedAnys(encoded))) };
  }

  /** Closes a stream whose client has not taken a response within `sendTimeoutMs`. */
  private evict(): void {
    if (this.closed) return;
    this.host.countWriteTimeout();
    this.host.log(
      'warn',
      `ads: proxy ${this.proxy?.id ?? this.call.getPeer()} took no bytes of a response within ` +
        `${this.host.sendTimeoutMs} ms; closing its stream (it reconnects and is sent its whole state)`,
    );
    try {
      this.call.emit('error', { code: DEADLINE_EXCEEDED, details: 'timeout sending' });
    } catch {}
    // The status queues behind the bytes the client does not take, so the HTTP/2 stream is reset too.
    resetHttp2Stream(this.call);
    this.close(false);
  }

  private fail(details: string): void {
    this.host.log('warn', `ads stream from ${this.call.getPeer()}: ${details}`);
    try {
      this.call.emit('error', { code: 3, details });
    } catch {}
    this.close(false);
  }

  private close(endCall: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.cancel();
    if (endCall) {
      try {
        this.call.end();
      } catch {}
    }
    this.host.onClosed(this);
  }
}

/** grpc.status.DEADLINE_EXCEEDED. */
export const DEADLINE_EXCEEDED = 4;

export function makeProxyInfo(node: NodeMessage, peer: string, delta = false): ProxyInfo {
  return {
    id: node.id!,
    metadata: structToJson(node.metadata),
    node,
    connectionId: `${node.id}-${++streamCounter}`,
    connectedAt: Date.now(),
    peer,
    vhds: delta && (node.clientFeatures ?? []).includes(VHDS_CLIENT_FEATURE),
  };
}

function newWatch(names: SubscriptionNames): Watch {
  return {
    subs: names,
    status: { sent: '', acked: '', nonce: '', resourceNames: names.list, resourceCount: 0 },
    sent: null,
  };
}

/**
 * Encodes each resource; one that fails keeps its last good encoding (`lastGood`, or is left out) and is
 * logged. With immutable resources an object's encoding is made once for every proxy it goes to, and a
 * list that begins with a shared one ({@link withSharedPrefix}) gets that list's encoding as its base.
 */
export function encodeResources(
  host: Pick<StreamHost, 'immutableResources' | 'log'>,
  proxyId: string,
  typeUrl: string,
  resources: readonly Resource[],
  lastGood: (name: string) => AnyMessage | undefined,
): Encoded {
  if (!host.immutableResources) return encodeList(host, proxyId, typeUrl, resources, 0, lastGood).out;
  const known = encodedByList.get(resources);
  if (known) return known;
  let out: Encoded;
  let failed: boolean;
  const prefix = sharedPrefixOf(resources) as readonly Resource[] | undefined;
  if (prefix !== undefined) {
    const base = encodeResources(host, proxyId, typeUrl, prefix, lastGood);
    const own = encodeList(host, proxyId, typeUrl, resources, prefix.length, lastGood);
    failed = own.failed;
    if (encodedByList.get(prefix) === base && base.base === undefined)
      out = { base, names: own.out.names, anys: own.out.anys };
    else {
      // A base with a failed resource is this proxy's own (its last good versions): the list is flat.
      out = {
        names: [...encodedNames(base), ...own.out.names],
        anys: [...encodedAnys(base), ...own.out.anys],
      };
      failed = true;
    }
  } else ({ out, failed } = encodeList(host, proxyId, typeUrl, resources, 0, lastGood));
  // A list handed to many proxies (the generator shares one per group and subscription) is encoded into
  // one Encoded they all hold, unless a resource failed (then the result depends on each proxy's last good).
  if (!failed) encodedByList.set(resources, out);
  return out;
}

/** Encodes `resources` from index `from` on into flat arrays. */
function encodeList(
  host: Pick<StreamHost, 'immutableResources' | 'log'>,
  proxyId: string,
  typeUrl: string,
  resources: readonly Resource[],
  from: number,
  lastGood: (name: string) => AnyMessage | undefined,
): { out: Encoded; failed: boolean } {
  // Sized once: thousands of proxies hold these arrays, and growing them by pushes leaves slack.
  const names: string[] = new Array<string>(resources.length - from);
  const anys: AnyMessage[] = new Array<AnyMessage>(resources.length - from);
  let n = 0;
  let failed = false;
  for (let i = from; i < resources.length; i++) {
    const resource = resources[i];
    const name = resourceName(resource);
    let any: AnyMessage | undefined;
    try {
      any = host.immutableResources ? encodedByObject.get(resource) : undefined;
      if (!any) {
        any = encodeResource(typeUrl, resource);
        if (host.immutableResources) encodedByObject.set(resource, any);
      }
    } catch (err) {
      failed = true;
      any = lastGood(name);
      const kept = any ? 'kept the last good version' : 'left it out';
      host.log(
        'error',
        `invalid ${shortTypeName(typeUrl)} ${name} for ${proxyId}, ${kept}: ${(err as Error).message}`,
      );
    }
    if (!any) continue;
    names[n] = name;
    anys[n] = any;
    n++;
  }
  names.length = n;
  anys.length = n;
  return { out: { names, anys }, failed };
}

/** Encoded lists by generated list (immutable resources only); never mutated once made. */
const encodedByList = new WeakMap<readonly Resource[], Encoded>();

/**
 * Encodings by resource object, used when the server's generator declares its resources immutable:
 * an object handed to every proxy that shares it is then encoded once instead of once per proxy.
 */
const encodedByObject = new WeakMap<object, AnyMessage>();

/** Whether two encoded lists carry the same content in the same order (shared objects compare by identity). */
function sameContent(a: Encoded, b: Encoded): boolean {
  if (a === b) return true;
  if (a.base !== undefined && a.base === b.base) return sameAnys(a.anys, b.anys);
  return sameAnys(encodedAnys(a), encodedAnys(b));
}

function sameAnys(a: readonly AnyMessage[], b: readonly AnyMessage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && resourceDigest(a[i]) !== resourceDigest(b[i])) return false;
  }
  return true;
}

export function rank(typeUrl: string): number {
  const i = PUSH_ORDER.indexOf(typeUrl);
  return i === -1 ? PUSH_ORDER.length : i;
}
