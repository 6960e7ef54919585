// One incremental (delta) ADS stream on the server, as Envoy's DeltaAggregatedResources: per-type
// subscriptions (wildcard for LDS/CDS), the versions the client holds, and responses that carry only the
// resources that changed plus the names removed. Nonces, ACK/NACK and pacing work as on the SotW stream.
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequestMessage, DeltaDiscoveryResponseMessage } from './ads-service.js';
import type { AnyMessage } from './protos.js';
import { resourceName } from './protos.js';
import {
  deltaResponseWithBody,
  framedDeltaResource,
  resourcesBody,
  resourceVersion,
  type SerializedResponse,
} from './discovery-response-bytes.js';
import {
  encodedAny,
  encodedAnys,
  encodedByName,
  encodedName,
  encodedNames,
  encodedSize,
  missingNames,
} from './encoded-list.js';
import {
  DEADLINE_EXCEEDED,
  encodeResources,
  makeProxyInfo,
  rank,
  type Encoded,
  type ProxyInfo,
  type PushTypes,
  type Resource,
  type ServedStream,
  type StreamHost,
  type TypeStatus,
} from './ads-stream.js';
import { resetHttp2Stream, ResponseWriter, settledWithin } from './response-writer.js';
import {
  changedSubscription,
  NO_NAMES,
  subscriptionNames,
  type SubscriptionNames,
} from './subscription-names.js';
import { isNamespacedType, isWildcardType, namespaceOf, shortTypeName } from './type-urls.js';

/** Per type: what the client subscribed to and what it holds. */
interface DeltaWatch {
  /** LDS/CDS subscribed with `*` (or with no names on the first request). */
  wildcard: boolean;
  /** Explicitly subscribed names, sorted; shared with every stream subscribed to the same names. */
  subs: SubscriptionNames;
  status: TypeStatus;
  /**
   * The resources the client holds as far as the server knows (everything sent, NACKed ones too: like
   * istiod, the server does not resend a rejected version; the client keeps its last good one until the
   * resource changes again). Two flat arrays, as on the SotW stream.
   */
  sent: Encoded | null;
  /** Versions the client said it has on a new stream (`initial_resource_versions`), until the first response. */
  initial: ReadonlyMap<string, string> | null;
}

/** Server side of one DeltaAggregatedResources call. All work on it runs one step at a time. */
export class DeltaAdsStream implements ServedStream {
  proxy: ProxyInfo | null = null;
  private readonly watches = new Map<string, DeltaWatch>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private pendingPush: { triggeredAt: number; types: PushTypes; done: Promise<void> } | null = null;
  private readonly writer: ResponseWriter;

  constructor(
    private readonly call: grpc.ServerDuplexStream<
      DeltaDiscoveryRequestMessage,
      DeltaDiscoveryResponseMessage | SerializedResponse
    >,
    private readonly host: StreamHost,
  ) {
    this.writer = new ResponseWriter(call, host.sendTimeoutMs, () => this.evict());
    call.on('data', (req: DeltaDiscoveryRequestMessage) => void this.enqueue(() => this.onRequest(req)));
    call.on('end', () => this.close(true));
    call.on('cancelled', () => this.close(false));
    call.on('error', () => this.close(false));
    call.on('close', () => this.close(false));
  }

  /** Per-type status for the debug endpoint (subscribed names: `*` for a wildcard). */
  typeStatuses(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, w] of this.watches) out[typeUrl] = { ...w.status };
    return out;
  }

  /** As {@link AdsStream.push}: regenerates the subscribed types among `only` and sends what changed. */
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
      for (const typeUrl of types) sent = (await this.respond(typeUrl, null)) || sent;
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
        `delta ads stream ${this.proxy?.connectionId ?? '?'}: ${(err as Error).stack ?? String(err)}`,
      );
    });
    return this.queue;
  }

  private async onRequest(req: DeltaDiscoveryRequestMessage): Promise<void> {
    if (!this.proxy) {
      if (!req.node?.id) return this.fail('the first DeltaDiscoveryRequest of a stream must carry node.id');
      this.proxy = makeProxyInfo(req.node, this.call.getPeer(), true);
      this.host.onConnected(this);
    }
    const typeUrl = req.typeUrl ?? '';
    if (!typeUrl)
      return this.host.log('warn', `proxy ${this.proxy.id} sent a DeltaDiscoveryRequest without type_url`);
    const subscribe = req.resourceNamesSubscribe ?? [];
    const unsubscribe = req.resourceNamesUnsubscribe ?? [];
    let watch = this.watches.get(typeUrl);
    if (!watch) {
      // First request of this type on this stream: always answered, even with nothing.
      const initial = Object.entries(req.initialResourceVersions ?? {});
      watch = newWatch(isWildcardType(typeUrl) && (subscribe.length === 0 || subscribe.includes('*')));
      watch.initial = initial.length > 0 ? new Map(initial) : null;
      this.watches.set(typeUrl, watch);
      setNames(
        watch,
        subscribe.filter((n) => n !== '*'),
      );
      await this.respond(typeUrl, []);
      return;
    }
    const nonce = req.responseNonce ?? '';
    if (nonce !== '') {
      if (nonce !== watch.status.nonce) this.host.countExpiredNonce(typeUrl);
      else if (req.errorDetail) this.recordNack(typeUrl, watch, req.errorDetail.message ?? '');
      else watch.status.acked = watch.status.sent;
    }
    if (subscribe.length === 0 && unsubscribe.length === 0) return;
    const added = this.changeSubscription(watch, subscribe, unsubscribe, isNamespacedType(typeUrl));
    if (added.length > 0) await this.respond(typeUrl, added);
  }

  /**
   * Applies (un)subscriptions; returns the names newly subscribed (or `*` turned on). `namespaced`: the names
   * are namespaces (VHDS), each standing for the resources named `<name>/...`.
   */
  private changeSubscription(
    watch: DeltaWatch,
    subscribe: string[],
    unsubscribe: string[],
    namespaced: boolean,
  ): string[] {
    const subs = watch.subs;
    const added: string[] = [];
    if (unsubscribe.includes('*')) watch.wildcard = false;
    if (subscribe.includes('*')) {
      if (!watch.wildcard) added.push('*');
      watch.wildcard = true;
    }
    const sub = subscribe.filter((n) => n !== '*');
    const unsub = unsubscribe.filter((n) => n !== '*');
    // Newly subscribed: not held after the unsubscriptions, each once.
    const dropped = new Set(unsub);
    const fresh = new Set<string>();
    for (const n of sub) if ((!subs.set.has(n) || dropped.has(n)) && !fresh.has(n)) fresh.add(n);
    added.push(...fresh);
    watch.subs = changedSubscription(subs, sub, unsub);
    watch.status.resourceNames = watch.wildcard ? ['*', ...watch.subs.list] : watch.subs.list;
    // Forget what the client held of the names it dropped: subscribing again sends them again.
    if (unsubscribe.length > 0 && watch.sent && !watch.wildcard) {
      const keep = watch.subs.set;
      const held = watch.sent;
      const sent: Encoded = { names: [], anys: [] };
      for (let i = 0, n = encodedSize(held); i < n; i++) {
        const name = encodedName(held, i);
        if (keep.has(namespaced ? namespaceOf(name) : name)) {
          sent.names.push(name);
          sent.anys.push(encodedAny(held, i));
        }
      }
      watch.sent = sent;
    }
    return added;
  }

  private recordNack(typeUrl: string, watch: DeltaWatch, message: string): void {
    const version = watch.status.sent;
    watch.status.lastNack = { version, nonce: watch.status.nonce, message, at: Date.now() };
    this.host.countReject(typeUrl);
    this.host.log(
      'warn',
      `proxy ${this.proxy!.id} rejected ${shortTypeName(typeUrl)} version ${version}: ${message}`,
    );
  }

  /**
   * Generates one type and sends what the client lacks. `requested` (names just subscribed; `[]` on the
   * first request) forces a response, listing requested names that do not exist as removed; null = a push,
   * sent only when something changed. Pacing as on the SotW stream (see AdsStream.respond).
   */
  private async respond(typeUrl: string, requested: string[] | null): Promise<boolean> {
    const started = await this.host.throttle.run(async () => {
      const s = await this.respondNow(typeUrl, requested);
      if (s) await settledWithin(s.written, this.host.slotTimeoutMs);
      return s;
    });
    if (!started) return false;
    await started.written;
    return true;
  }

  private async respondNow(
    typeUrl: string,
    requested: string[] | null,
  ): Promise<{ written: Promise<void> } | null> {
    const watch = this.watches.get(typeUrl);
    if (!watch || !this.proxy) return null;
    const generated = await this.generate(typeUrl, watch);
    if (generated === null) return null;
    const sent = watch.sent;
    const encoded = encodeResources(this.host, this.proxy.id, typeUrl, generated, (name) =>
      sent ? encodedByName(sent, name) : undefined,
    );
    const d = diff(sent, encoded, watch.initial);
    const changed = d.changed;
    let removed = d.removed;
    watch.initial = null;
    // A requested name that does not exist is answered as removed; a namespace is no resource of its own.
    if (requested && !isNamespacedType(typeUrl) && requested.some((n) => n !== '*')) {
      const unknown = missingNames(
        encoded,
        requested.filter((n) => n !== '*'),
      ).filter((n) => !removed.includes(n));
      if (unknown.length > 0) removed = [...removed, ...unknown];
    }
    watch.sent = encoded;
    if (requested === null && changed.length === 0 && removed.length === 0) return null;
    if (this.closed) return null;
    const version = this.host.nextVersion();
    const nonce = randomBytes(8).toString('hex');
    watch.status.sent = version;
    watch.status.nonce = nonce;
    watch.status.resourceCount = encodedSize(encoded);
    this.host.countPush(typeUrl);
    const header = {
      systemVersionInfo: version,
      typeUrl,
      nonce,
      controlPlaneId: this.host.controlPlaneId,
      removed,
    };
    const body = deltaBody(encoded, changed);
    return { written: this.writer.write(() => deltaResponseWithBody(header, body)) };
  }

  /** The client's resources of one type, filtered to its subscription; null when generation failed. */
  private async generate(typeUrl: string, watch: DeltaWatch): Promise<readonly Resource[] | null> {
    if (!watch.wildcard && watch.subs.list.length === 0) return [];
    let generated: readonly Resource[];
    try {
      generated = await this.host.generate(this.proxy!, typeUrl, watch.wildcard ? [] : watch.subs.list);
    } catch (err) {
      this.host.log(
        'error',
        `generating ${shortTypeName(typeUrl)} for ${this.proxy!.id}: ${(err as Error).message}`,
      );
      return null;
    }
    // Namespaced (VHDS): the generator returns just the subscribed namespaces' resources.
    if (watch.wildcard || isNamespacedType(typeUrl)) return generated;
    const wanted = watch.subs.set;
    // Generators usually return just the names asked for: then the (shared) list is kept as it is.
    if (generated.every((r) => wanted.has(resourceName(r)))) return generated;
    return generated.filter((r) => wanted.has(resourceName(r)));
  }

  /** Closes a stream whose client has not taken a response within `sendTimeoutMs` (as AdsStream does). */
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
    resetHttp2Stream(this.call);
    this.close(false);
  }

  private fail(details: string): void {
    this.host.log('warn', `delta ads stream from ${this.call.getPeer()}: ${details}`);
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

function newWatch(wildcard: boolean): DeltaWatch {
  return {
    wildcard,
    subs: NO_NAMES,
    status: { sent: '', acked: '', nonce: '', resourceNames: wildcard ? ['*'] : [], resourceCount: 0 },
    sent: null,
    initial: null,
  };
}

function setNames(watch: DeltaWatch, names: string[]): void {
  watch.subs = subscriptionNames(names);
  watch.status.resourceNames = watch.wildcard ? ['*', ...watch.subs.list] : watch.subs.list;
}

/** Bodies of whole lists (every resource framed and chunked), by list. */
const wholeBodies = new WeakMap<Encoded, readonly Buffer[]>();

/** The framed body of a flat list's resources, made once per list (a shared list: once for all proxies). */
function wholeBody(e: Encoded): readonly Buffer[] {
  let body = wholeBodies.get(e);
  if (!body) {
    body = resourcesBody(e.names.map((n, i) => framedDeltaResource(e.anys[i], n)));
    wholeBodies.set(e, body);
  }
  return body;
}

/**
 * The body chunks carrying `changed` (ascending indexes into `encoded`). A client's first response of a
 * shared list, or of a based one's base, reuses the body made for the first client: 2000 proxies' cold
 * syncs frame and chunk each shared list once. (Repeated fields may be split across chunks at any entry.)
 */
export function deltaBody(encoded: Encoded, changed: readonly number[]): readonly Buffer[] {
  const size = encodedSize(encoded);
  if (size > 0 && changed.length === size) {
    if (encoded.base === undefined) return wholeBody(encoded);
    const own = encoded.names.map((n, i) => framedDeltaResource(encoded.anys[i], n));
    return [...wholeBody(encoded.base), ...resourcesBody(own)];
  }
  return resourcesBody(
    changed.map((i) => framedDeltaResource(encodedAny(encoded, i), encodedName(encoded, i))),
  );
}

/** What a client lacks of a new list: indexes into it, and the names it held that are gone. */
export interface DeltaDiff {
  readonly changed: readonly number[];
  readonly removed: readonly string[];
}

/** Diffs by the list a client held and the new one: proxies of one shared generation hold the same lists. */
const diffsByPrev = new WeakMap<Encoded, WeakMap<Encoded, DeltaDiff>>();

/**
 * Indexes into `next` of the resources the client lacks (new, or of another version than it holds), and
 * the names it holds that `next` no longer has. Resources at the same index with the same name and Any
 * object (shared generations) are equal without hashing; otherwise versions are compared. Every proxy of
 * a shared generation holds the same list and is sent the same new one, so the answer is computed once
 * for them all (a push of 3000 load assignments to 2000 such proxies compares 3000 pairs, not 6 million).
 * Lists with bases (a sidecar's clusters: its group's outbound ones, then its own) diff their bases that
 * way, once for all proxies, and their own few resources alone.
 */
export function diff(
  prev: Encoded | null,
  next: Encoded,
  initial: ReadonlyMap<string, string> | null,
): DeltaDiff {
  if (prev === null || initial !== null) return diffLists(prev, next, initial);
  if (prev.base !== undefined && next.base !== undefined) return diffBased(prev, next);
  return diffShared(prev, next);
}

/** {@link diffLists} of two lists held by many proxies, memoized by the pair. */
function diffShared(prev: Encoded, next: Encoded): DeltaDiff {
  let byNext = diffsByPrev.get(prev);
  const known = byNext?.get(next);
  if (known) return known;
  const d = diffLists(prev, next, null);
  Object.freeze(d.changed);
  Object.freeze(d.removed);
  if (!byNext) diffsByPrev.set(prev, (byNext = new WeakMap()));
  byNext.set(next, d);
  return d;
}

/** Two based lists: the bases' diff (shared) and the own parts' diff, as one. */
function diffBased(prev: Encoded, next: Encoded): DeltaDiff {
  const pb = prev.base!;
  const nb = next.base!;
  const bases = pb === nb ? null : diffShared(pb, nb);
  const own = diffLists({ names: prev.names, anys: prev.anys }, { names: next.names, anys: next.anys }, null);
  const offset = nb.names.length;
  const changed = bases === null ? [] : bases.changed.slice();
  for (const i of own.changed) changed.push(offset + i);
  let removed = bases === null ? own.removed : [...bases.removed, ...own.removed];
  // A name that moved between the base and the own part is not removed: the other half's diff sends it.
  if (bases !== null && removed.length > 0)
    removed = removed.filter((n) => !(nb.names.includes(n) || next.names.includes(n)));
  return { changed, removed };
}

function diffLists(
  prev: Encoded | null,
  next: Encoded,
  initial: ReadonlyMap<string, string> | null,
): { changed: number[]; removed: string[] } {
  const changed: number[] = [];
  if (prev === next && initial === null) return { changed, removed: [] };
  const nextNames = encodedNames(next);
  const nextAnys = encodedAnys(next);
  if (prev === null && initial === null) {
    for (let i = 0; i < nextNames.length; i++) changed.push(i); // a first response: everything
    return { changed, removed: [] };
  }
  if (prev === null) {
    for (let i = 0; i < nextNames.length; i++)
      if (initial?.get(nextNames[i]) !== resourceVersion(nextAnys[i])) changed.push(i);
    const now = initial ? new Set(nextNames) : null;
    const removed = initial ? [...initial.keys()].filter((n) => !now!.has(n)) : [];
    return { changed, removed };
  }
  const prevNames = encodedNames(prev);
  const prevAnys = encodedAnys(prev);
  let byName: Map<string, AnyMessage> | null = null;
  let aligned = prevNames.length === nextNames.length;
  for (let i = 0; i < nextNames.length; i++) {
    const name = nextNames[i];
    const any = nextAnys[i];
    let old: AnyMessage | undefined;
    if (i < prevNames.length && prevNames[i] === name) old = prevAnys[i];
    else {
      aligned = false;
      byName ??= new Map(prevNames.map((n, k) => [n, prevAnys[k]]));
      old = byName.get(name);
    }
    if (old !== any && (old === undefined || resourceVersion(old) !== resourceVersion(any))) changed.push(i);
  }
  const removed: string[] = [];
  if (!aligned && prevNames.length > 0) {
    const now = new Set(nextNames);
    for (const n of prevNames) if (!now.has(n)) removed.push(n);
  }
  return { changed, removed };
}
