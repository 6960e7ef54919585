// The wire format of Istio's TCP metadata exchange (istio.metadata_exchange, ALPN istio-peer-exchange):
// an 8-byte initial header (magic 0x3D230467, then the data size, both u32 big-endian) followed by a
// serialized google.protobuf.Any of a google.protobuf.Struct whose `x-envoy-peer-metadata` field is the
// sender's node metadata and `x-envoy-peer-metadata-id` its node id. The reader is incremental and
// bounded: the data size comes from the network, so more than MAX_EXCHANGE_DATA is refused.
import protobuf from 'protobufjs';
import { decodeMessage, encodeMessage } from '../../../xds/protos.js';
import { structFromJson, structToJson } from '../../../xds/struct.js';
import type { NodeInfo } from '../../http/filters/filter.js';

/** MetadataExchangeInitialHeader's magic number. */
export const EXCHANGE_MAGIC = 0x3d230467;
/** Size of the initial header (magic + data size). */
export const EXCHANGE_HEADER_LEN = 8;
/**
 * Largest data blob accepted (bytes). Istio sets no bound; node metadata of a pod is a few KiB (Kubernetes
 * label values are at most 63 characters), so 64 KiB leaves room while keeping a hostile peer's cost bounded.
 */
export const MAX_EXCHANGE_DATA = 64 * 1024;

/** The Struct keys the Any carries (Istio's ExchangeMetadataHeader / ExchangeMetadataHeaderId). */
const METADATA_KEY = 'x-envoy-peer-metadata';
const METADATA_ID_KEY = 'x-envoy-peer-metadata-id';
const STRUCT_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';

/** Node metadata keys Istio's proxy puts in the exchange (its FlatNode fields). */
const STRING_KEYS = ['NAME', 'NAMESPACE', 'OWNER', 'WORKLOAD_NAME', 'ISTIO_VERSION', 'MESH_ID', 'CLUSTER_ID'];
const MAP_KEYS = ['LABELS', 'PLATFORM_METADATA'];

/** The node metadata as Istio's exchange sends it: string fields, string maps, APP_CONTAINERS. */
function exchangedMetadata(md: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of STRING_KEYS) if (typeof md[k] === 'string') out[k] = md[k];
  for (const k of MAP_KEYS) {
    const v = md[k];
    if (!v || typeof v !== 'object' || Array.isArray(v)) continue;
    const m: Record<string, string> = {};
    for (const [lk, lv] of Object.entries(v as Record<string, unknown>))
      if (typeof lv === 'string') m[lk] = lv;
    out[k] = m;
  }
  const c = md.APP_CONTAINERS;
  if (typeof c === 'string') out.APP_CONTAINERS = c;
  else if (Array.isArray(c)) out.APP_CONTAINERS = c.map(String).join(',');
  return out;
}

/** The bytes a proxy sends first on an exchanged connection: header + Any(Struct). Computed once per node. */
export function encodeExchange(node: NodeInfo): Buffer {
  const fields: Record<string, unknown> = { [METADATA_KEY]: exchangedMetadata(node.metadata) };
  if (node.id) fields[METADATA_ID_KEY] = node.id;
  const value = encodeMessage('google.protobuf.Struct', structFromJson(fields));
  const w = protobuf.Writer.create();
  w.uint32(10).string(STRUCT_TYPE_URL); // Any.type_url, field 1
  w.uint32(18).bytes(value); // Any.value, field 2
  const any = w.finish();
  const out = Buffer.allocUnsafe(EXCHANGE_HEADER_LEN + any.length);
  out.writeUInt32BE(EXCHANGE_MAGIC, 0);
  out.writeUInt32BE(any.length, 4);
  out.set(any, EXCHANGE_HEADER_LEN);
  return out;
}

/** What the peer sent: its node metadata (JSON) and node id; null when the data is not Istio's Any(Struct). */
export interface ExchangedPeer {
  readonly metadata: Record<string, unknown>;
  readonly id: string;
}

/** Decodes the data blob (the Any), or null when it is malformed or not a Struct. */
export function decodeExchangeData(data: Uint8Array): ExchangedPeer | null {
  try {
    const r = protobuf.Reader.create(data);
    let typeUrl = '';
    let value: Uint8Array | null = null;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 10) typeUrl = r.string();
      else if (tag === 18) value = r.bytes();
      else r.skipType(tag & 7);
    }
    if (typeUrl !== STRUCT_TYPE_URL || value === null) return null;
    const fields = structToJson(decodeMessage('google.protobuf.Struct', value));
    const md = fields[METADATA_KEY];
    const id = fields[METADATA_ID_KEY];
    return {
      metadata: md && typeof md === 'object' && !Array.isArray(md) ? (md as Record<string, unknown>) : {},
      id: typeof id === 'string' ? id : '',
    };
  } catch {
    return null;
  }
}

/** Where reading the peer's exchange stands. */
export const enum ReadState {
  /** More bytes are needed. */
  NeedMore,
  /** The header and data were read: `data` holds the blob, `rest` the bytes after it. */
  Done,
  /** The first bytes are not an exchange header: `rest` holds everything read, to forward unchanged. */
  NotFound,
  /** The header announces more than MAX_EXCHANGE_DATA. */
  TooLarge,
}

/** Reads the peer's initial header and data from the first bytes of a connection. */
export class ExchangeReader {
  state = ReadState.NeedMore;
  /** The data blob (Done). */
  data: Buffer | null = null;
  /** Bytes read past the exchange (Done), or every byte read (NotFound); forwarded as they are. */
  rest: Buffer | null = null;
  private buf: Buffer | null = null;
  private need = EXCHANGE_HEADER_LEN;

  /** Adds bytes read from the peer; returns the new state. */
  push(chunk: Buffer): ReadState {
    if (this.state !== ReadState.NeedMore) return this.state;
    const buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (buf.length < this.need) {
      this.buf = buf;
      return this.state;
    }
    if (this.need === EXCHANGE_HEADER_LEN) {
      if (buf.readUInt32BE(0) !== EXCHANGE_MAGIC) return this.finish(ReadState.NotFound, buf);
      const size = buf.readUInt32BE(4);
      if (size > MAX_EXCHANGE_DATA) return this.finish(ReadState.TooLarge, null);
      this.need = EXCHANGE_HEADER_LEN + size;
      if (buf.length < this.need) {
        this.buf = buf;
        return this.state;
      }
    }
    this.data = buf.subarray(EXCHANGE_HEADER_LEN, this.need);
    return this.finish(ReadState.Done, buf.subarray(this.need));
  }

  /**
   * The peer ended its side before a whole exchange: no metadata (Istio's). Bytes that cannot be a
   * header go on unchanged; a header whose magic matched is dropped, so no exchange bytes reach the app.
   */
  end(): ReadState {
    if (this.state !== ReadState.NeedMore) return this.state;
    const partial = this.need > EXCHANGE_HEADER_LEN ? null : this.buf;
    return this.finish(ReadState.NotFound, partial ?? Buffer.alloc(0));
  }

  private finish(state: ReadState, rest: Buffer | null): ReadState {
    this.state = state;
    this.rest = rest;
    this.buf = null;
    return state;
  }
}
