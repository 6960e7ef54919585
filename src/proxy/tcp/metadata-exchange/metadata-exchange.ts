// istio.metadata_exchange: Istio's TCP peer metadata exchange, as a listener network filter (downstream:
// the peer is the client) and as a cluster filter (upstream: the peer is the server). It runs only when
// TLS negotiated the configured ALPN (`istio-peer-exchange`): each side sends its own header first, then
// reads and strips the peer's before the bytes reach tcp_proxy's other side. No ALPN, a wrong magic or
// an early end: no metadata, and the bytes go on unchanged.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { NodeInfo } from '../../http/filters/filter.js';
import { peerFromMetadata, type PeerInfo } from '../../http/filters/istio-stats/peer-metadata.js';
import type { Counter, StatsStore } from '../../stats/stats-store.js';
import { structToJson, type CanonicalStruct } from '../../../xds/struct.js';
import { logger } from '../../log.js';
import { decodeExchangeData, encodeExchange, ExchangeReader, ReadState } from './exchange-header.js';

const log = logger('metadata_exchange');

/** The filter's name (Istio's MxFilterName). */
export const METADATA_EXCHANGE = 'istio.metadata_exchange';

/** How one exchange ended. */
export const enum ExchangeOutcome {
  /** The peer's metadata was read (`peer` set). */
  Found,
  /** No usable metadata: the first bytes were not a header, or its data did not decode. */
  NotFound,
  /** The peer announced more data than allowed: the connection must be closed. */
  Refused,
}

/** The result of reading the peer's side of one connection. */
export interface ExchangeResult {
  readonly outcome: ExchangeOutcome;
  /** The peer's workload; null unless Found. */
  readonly peer: PeerInfo | null;
  /** Bytes read after the exchange (or instead of it): forwarded before anything else. */
  readonly rest: Buffer;
  /** The peer ended its side while we read: the other side is to be ended after `rest`. */
  readonly ended: boolean;
  /** Bytes of the peer's stream consumed by the exchange (not the app's). */
  readonly consumed: number;
}

/** A compiled MetadataExchange config (`protocol`, `enable_discovery`, `additional_labels`) with its stats. */
export class MetadataExchange {
  /** The ALPN value that turns the exchange on. */
  readonly protocol: string;
  readonly alpnFound: Counter;
  readonly alpnNotFound: Counter;
  readonly initialHeaderNotFound: Counter;
  readonly headerNotFound: Counter;
  readonly metadataAdded: Counter;

  /** Compiles the typed config (a TypedStruct of envoy.tcp.metadataexchange.config.MetadataExchange). */
  constructor(typedConfig: unknown, store: StatsStore) {
    const c = plainValue(typedConfig);
    this.protocol = typeof c.protocol === 'string' ? c.protocol : '';
    if (this.protocol === '') throw new Error('protocol: the ALPN value to exchange on is required');
    // Workload discovery (WDS) finds a peer that sent no exchange by its address; Mizzen has no WDS.
    if (c.enable_discovery === true)
      warnOnce(
        'enable_discovery: workload discovery is not supported; a peer without the exchange stays unknown',
      );
    if (Array.isArray(c.additional_labels) && c.additional_labels.length > 0)
      warnOnce("additional_labels: not supported; only Istio's standard labels are reported");
    const s = store.scope('metadata_exchange.', 'metadata_exchange.');
    this.alpnFound = s.counter('alpn_protocol_found');
    this.alpnNotFound = s.counter('alpn_protocol_not_found');
    this.initialHeaderNotFound = s.counter('initial_header_not_found');
    this.headerNotFound = s.counter('header_not_found');
    this.metadataAdded = s.counter('metadata_added');
  }

  /** True when `sock` negotiated this filter's ALPN (counted as Istio's alpn_protocol_found / _not_found). */
  applies(sock: Socket): boolean {
    const alpn = (sock as Partial<TLSSocket>).alpnProtocol;
    if (alpn === this.protocol) {
      this.alpnFound.inc();
      return true;
    }
    this.alpnNotFound.inc();
    return false;
  }

  /**
   * Sends `own` (this proxy's exchange bytes) on `sock`, then reads the peer's exchange from it and
   * calls `done` once (unless the socket closes first). The socket is left paused, its 'data' and 'end'
   * listeners removed, so the caller can pipe it.
   */
  run(sock: Socket, own: Buffer, done: (r: ExchangeResult) => void): void {
    sock.write(own);
    this.metadataAdded.inc();
    const reader = new ExchangeReader();
    let read = 0;
    const finish = (ended: boolean): void => {
      sock.pause();
      sock.removeListener('data', onData);
      sock.removeListener('end', onEnd);
      done(this.result(reader, read, ended));
    };
    const onData = (d: Buffer): void => {
      read += d.length;
      if (reader.push(d) !== ReadState.NeedMore) finish(false);
    };
    const onEnd = (): void => {
      reader.end();
      finish(true);
    };
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.resume();
  }

  private result(reader: ExchangeReader, read: number, ended: boolean): ExchangeResult {
    const rest = reader.rest ?? Buffer.alloc(0);
    const consumed = read - rest.length;
    if (reader.state === ReadState.TooLarge) {
      this.headerNotFound.inc();
      return { outcome: ExchangeOutcome.Refused, peer: null, rest, ended, consumed };
    }
    if (reader.state === ReadState.NotFound) {
      this.initialHeaderNotFound.inc();
      return { outcome: ExchangeOutcome.NotFound, peer: null, rest, ended, consumed };
    }
    const peer = peerOfData(reader.data!);
    if (peer === null) this.headerNotFound.inc();
    const outcome = peer === null ? ExchangeOutcome.NotFound : ExchangeOutcome.Found;
    return { outcome, peer, rest, ended, consumed };
  }
}

/** The plain JSON of a TypedStruct's value (or a plain object given directly). */
function plainValue(typedConfig: unknown): Record<string, unknown> {
  const v = (typedConfig as { value?: unknown } | null | undefined)?.value;
  if (v && typeof v === 'object' && 'fields' in v) return structToJson(v as CanonicalStruct);
  return (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  log.warn(`${METADATA_EXCHANGE}: ${msg}`);
}

/** Exchange bytes per node (the node of a proxy does not change). */
const ownBytes = new WeakMap<NodeInfo, Buffer>();
const NO_NODE: NodeInfo = { id: '', metadata: {} };

/** What this proxy sends: its node metadata as Istio's exchange carries it. */
export function exchangeBytesOf(node: NodeInfo | null): Buffer {
  const n = node ?? NO_NODE;
  let b = ownBytes.get(n);
  if (b === undefined) ownBytes.set(n, (b = encodeExchange(n)));
  return b;
}

/** Decoded peers by their exchange data: one PeerInfo per distinct peer (metric series key on it); bounded. */
const peers = new Map<string, PeerInfo | null>();
const MAX_PEERS = 1024;

function peerOfData(data: Buffer): PeerInfo | null {
  const key = data.toString('latin1');
  let p = peers.get(key);
  if (p === undefined) {
    const d = decodeExchangeData(data);
    p = d === null ? null : peerFromMetadata(d.metadata);
    if (peers.size >= MAX_PEERS) peers.clear();
    peers.set(key, p);
  }
  return p;
}

/**
 * A cluster's upstream network filters (Cluster.filters): istio.metadata_exchange is the one Mizzen
 * runs; any other is refused, as Envoy refuses a filter it has no factory for. Throws naming the entry.
 */
export function compileClusterFilters(filters: unknown, store: StatsStore): MetadataExchange | null {
  let mx: MetadataExchange | null = null;
  const list = Array.isArray(filters) ? (filters as Array<{ name?: unknown; typedConfig?: unknown }>) : [];
  list.forEach((f, i) => {
    const name = String(f.name ?? '');
    if (name !== METADATA_EXCHANGE)
      throw new Error(`filters[${i}] (${name}): no upstream network filter registered under this name`);
    try {
      mx = new MetadataExchange(f.typedConfig ?? {}, store);
    } catch (e) {
      throw new Error(`filters[${i}] (${name}).typedConfig.${(e as Error).message}`);
    }
  });
  return mx;
}
