// DiscoveryResponse wire bytes built by hand from already-encoded resources, so a resource shared by many
// proxies is framed and fingerprinted once, not once per proxy and push. Field numbers are those of
// envoy.service.discovery.v3.DiscoveryResponse: version_info 1, resources 2, type_url 4, nonce 5,
// control_plane 6 (envoy.config.core.v3.ControlPlane: identifier 1).
import { createHash } from 'node:crypto';
import type { AnyMessage } from './protos.js';

/** Per Any object: its bytes as a `resources` field entry (tag, length, Any body). */
const framedByAny = new WeakMap<AnyMessage, Buffer>();
/** Per Any object: its bytes as a DeltaDiscoveryResponse `resources` entry (a Resource with name and version). */
const deltaFramedByAny = new WeakMap<AnyMessage, Buffer>();
/** Per Any object: a SHA-256 fingerprint of its type URL and value. */
const digestByAny = new WeakMap<AnyMessage, string>();

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

/** Appends field `field` (wire type 2, length-delimited) holding `body`; returns the new offset. */
function writeBytesField(buf: Buffer, offset: number, field: number, body: Uint8Array): number {
  buf[offset++] = (field << 3) | 2;
  offset = writeVarint(buf, offset, body.byteLength);
  buf.set(body, offset);
  return offset + body.byteLength;
}

function bytesFieldLength(bodyLength: number): number {
  return 1 + varintLength(bodyLength) + bodyLength;
}

/** The `resources` entry of one Any (field 2 of DiscoveryResponse), cached per Any object. */
export function framedResource(any: AnyMessage): Buffer {
  let framed = framedByAny.get(any);
  if (framed) return framed;
  const typeUrl = Buffer.from(any.type_url, 'utf8');
  const bodyLength = bytesFieldLength(typeUrl.byteLength) + bytesFieldLength(any.value.byteLength);
  framed = Buffer.allocUnsafe(bytesFieldLength(bodyLength));
  let o = 0;
  framed[o++] = (2 << 3) | 2;
  o = writeVarint(framed, o, bodyLength);
  o = writeBytesField(framed, o, 1, typeUrl);
  writeBytesField(framed, o, 2, any.value);
  framedByAny.set(any, framed);
  return framed;
}

/** A fingerprint of one Any's content, cached per Any object; equal content gives equal fingerprints. */
export function resourceDigest(any: AnyMessage): string {
  let digest = digestByAny.get(any);
  if (digest) return digest;
  digest = createHash('sha256').update(any.type_url).update('\0').update(any.value).digest('base64');
  digestByAny.set(any, digest);
  return digest;
}

/** The header fields of a response; everything but the resources. */
export interface ResponseHeader {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  controlPlaneId: string;
}

/**
 * A serialized response in two parts whose concatenation is the message: the header fields of one stream,
 * then the resources. Protobuf allows fields in any order, so the resources come last and their bytes are
 * chunks shared by every stream sent the same resources ({@link resourcesBody}): writing them costs no copy.
 */
export interface ResponseParts {
  readonly head: Buffer;
  readonly body: readonly Buffer[];
}

/** The parts as one Buffer (for a transport that needs the whole message at once). */
export function responseBytes(parts: ResponseParts): Buffer {
  return parts.body.length === 0 ? parts.head : Buffer.concat([parts.head, ...parts.body]);
}

/** A response already serialized, handed to gRPC as the message (the server's serializer passes it through). */
export class SerializedResponse {
  constructor(public readonly bytes: Buffer) {}
}

/** Resources per body chunk: a list that shares a prefix with another shares those chunks. */
const CHUNK = 64;
/** Concatenated runs of framed resources, by their first entry; each run is kept while that entry lives. */
const runsByFirst = new WeakMap<Buffer, { parts: readonly Buffer[]; bytes: Buffer }[]>();
/** Distinct runs kept per first entry (a resource that starts several runs: a few proxy-specific tails). */
const RUNS_PER_FIRST = 4;

/**
 * The resources entries as chunks of up to {@link CHUNK} entries each, concatenated once per distinct run
 * and then reused: pushing the same resources to 2000 proxies assembles their bytes once, and a proxy whose
 * list differs only at the end (its own inbound clusters after the shared outbound ones) shares every chunk
 * but the last. A single entry is its own chunk.
 */
export function resourcesBody(framed: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < framed.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, framed.length);
    if (end - start === 1) {
      out.push(framed[start]);
      continue;
    }
    const first = framed[start];
    let runs = runsByFirst.get(first);
    let run = runs?.find((r) => sameRun(r.parts, framed, start, end));
    if (!run) {
      const parts = framed.slice(start, end);
      let total = 0;
      for (const f of parts) total += f.byteLength;
      // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool for small Buffers.
      const bytes = Buffer.allocUnsafeSlow(total);
      let o = 0;
      for (const f of parts) {
        bytes.set(f, o); // TypedArray#set: Buffer#copy's argument checks cost more than the copy for small buffers
        o += f.byteLength;
      }
      run = { parts, bytes };
      if (!runs) runsByFirst.set(first, (runs = []));
      runs.unshift(run);
      if (runs.length > RUNS_PER_FIRST) runs.pop();
    }
    out.push(run.bytes);
  }
  return out;
}

function sameRun(parts: readonly Buffer[], framed: readonly Buffer[], start: number, end: number): boolean {
  if (parts.length !== end - start) return false;
  for (let i = 0; i < parts.length; i++) if (parts[i] !== framed[start + i]) return false;
  return true;
}

/** The serialized DiscoveryResponse: header fields, then every resource in order (as shared chunks). */
export function encodeDiscoveryResponse(
  header: ResponseHeader,
  resources: readonly AnyMessage[],
): ResponseParts {
  const version = Buffer.from(header.versionInfo, 'utf8');
  const typeUrl = Buffer.from(header.typeUrl, 'utf8');
  const nonce = Buffer.from(header.nonce, 'utf8');
  const identifier = Buffer.from(header.controlPlaneId, 'utf8');
  const controlPlaneLength = bytesFieldLength(identifier.byteLength);
  const total =
    bytesFieldLength(version.byteLength) +
    bytesFieldLength(typeUrl.byteLength) +
    bytesFieldLength(nonce.byteLength) +
    bytesFieldLength(controlPlaneLength);
  const head = Buffer.allocUnsafe(total);
  let o = writeBytesField(head, 0, 1, version);
  o = writeBytesField(head, o, 4, typeUrl);
  o = writeBytesField(head, o, 5, nonce);
  head[o++] = (6 << 3) | 2;
  o = writeVarint(head, o, controlPlaneLength);
  writeBytesField(head, o, 1, identifier);
  return { head, body: resourcesBody(resources.map(framedResource)) };
}

/**
 * The version of a resource in delta xDS: a fingerprint of its content, so equal content has equal versions
 * across streams, server restarts and replicas (a client reconnecting with `initial_resource_versions` is
 * sent only what differs).
 */
export function resourceVersion(any: AnyMessage): string {
  let version = versionByAny.get(any);
  if (version === undefined) versionByAny.set(any, (version = resourceDigest(any).slice(0, 22)));
  return version;
}

/** Per Any object: its delta xDS version (compared for every proxy a resource goes to). */
const versionByAny = new WeakMap<AnyMessage, string>();

/**
 * The `resources` entry of one Any in a DeltaDiscoveryResponse (field 2, an envoy.service.discovery.v3.Resource:
 * version 1, resource 2, name 3), cached per Any object: a resource shared by many proxies is framed once.
 */
export function framedDeltaResource(any: AnyMessage, name: string): Buffer {
  let framed = deltaFramedByAny.get(any);
  if (framed) return framed;
  const version = Buffer.from(resourceVersion(any), 'utf8');
  const nameBytes = Buffer.from(name, 'utf8');
  const typeUrl = Buffer.from(any.type_url, 'utf8');
  const anyLength = bytesFieldLength(typeUrl.byteLength) + bytesFieldLength(any.value.byteLength);
  const bodyLength =
    bytesFieldLength(version.byteLength) +
    bytesFieldLength(anyLength) +
    bytesFieldLength(nameBytes.byteLength);
  framed = Buffer.allocUnsafe(bytesFieldLength(bodyLength));
  let o = 0;
  framed[o++] = (2 << 3) | 2;
  o = writeVarint(framed, o, bodyLength);
  o = writeBytesField(framed, o, 1, version);
  framed[o++] = (2 << 3) | 2;
  o = writeVarint(framed, o, anyLength);
  o = writeBytesField(framed, o, 1, typeUrl);
  o = writeBytesField(framed, o, 2, any.value);
  writeBytesField(framed, o, 3, nameBytes);
  deltaFramedByAny.set(any, framed);
  return framed;
}

/** The header fields of a delta response; everything but the resources. */
export interface DeltaResponseHeader {
  systemVersionInfo: string;
  typeUrl: string;
  nonce: string;
  controlPlaneId: string;
  /** Names the client must drop (deleted, or subscribed but unknown). */
  removed: readonly string[];
}

/**
 * The serialized envoy.service.discovery.v3.DeltaDiscoveryResponse: system_version_info 1, type_url 4, nonce 5,
 * removed_resources 6, control_plane 7, then resources 2: `body`, the resources already framed
 * ({@link framedDeltaResource}) and chunked ({@link resourcesBody}), shared as in {@link ResponseParts}.
 */
export function deltaResponseWithBody(header: DeltaResponseHeader, body: readonly Buffer[]): ResponseParts {
  const version = Buffer.from(header.systemVersionInfo, 'utf8');
  const typeUrl = Buffer.from(header.typeUrl, 'utf8');
  const nonce = Buffer.from(header.nonce, 'utf8');
  const identifier = Buffer.from(header.controlPlaneId, 'utf8');
  const removed = header.removed.map((n) => Buffer.from(n, 'utf8'));
  const controlPlaneLength = bytesFieldLength(identifier.byteLength);
  let total =
    bytesFieldLength(version.byteLength) +
    bytesFieldLength(typeUrl.byteLength) +
    bytesFieldLength(nonce.byteLength) +
    bytesFieldLength(controlPlaneLength);
  for (const r of removed) total += bytesFieldLength(r.byteLength);
  const head = Buffer.allocUnsafe(total);
  let o = writeBytesField(head, 0, 1, version);
  o = writeBytesField(head, o, 4, typeUrl);
  o = writeBytesField(head, o, 5, nonce);
  for (const r of removed) o = writeBytesField(head, o, 6, r);
  head[o++] = (7 << 3) | 2;
  o = writeVarint(head, o, controlPlaneLength);
  writeBytesField(head, o, 1, identifier);
  return { head, body };
}
