// Istio's peer metadata exchange headers: a client sidecar sends its node metadata on requests, the
// server sidecar answers with its own on responses; each side strips the peer's headers so apps never
// see them. The value is Istio's: base64 of a serialized google.protobuf.Struct of the node metadata.
import { decodeMessage, encodeMessage } from '../../../../xds/protos.js';
import { structFromJson, structToJson } from '../../../../xds/struct.js';

/** The exchange headers (Istio's names). */
export const PEER_METADATA = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID = 'x-envoy-peer-metadata-id';

/** What the metrics say about one side of a request (source or destination workload). */
export interface PeerInfo {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
  /** `spiffe://<trust domain>/ns/<ns>/sa/<service account>`, '' when unknown. */
  readonly identity: string;
}

/** A peer that sent no metadata (an app without a sidecar, or a local reply). */
export const UNKNOWN_PEER: PeerInfo = Object.freeze({
  workload: 'unknown',
  namespace: 'unknown',
  app: 'unknown',
  version: 'unknown',
  canonicalService: 'unknown',
  canonicalRevision: 'unknown',
  cluster: 'unknown',
  identity: '',
});

const str = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : '');

/** A peer as Istio reads node metadata: WORKLOAD_NAME, NAMESPACE, LABELS (app, version, canonical labels), CLUSTER_ID. */
export function peerFromMetadata(md: Record<string, unknown>): PeerInfo {
  const labels = (md.LABELS && typeof md.LABELS === 'object' ? md.LABELS : {}) as Record<string, unknown>;
  const workload = str(md.WORKLOAD_NAME) || str(md.NAME) || 'unknown';
  const app = str(labels['app']) || str(labels['app.kubernetes.io/name']);
  const version = str(labels['version']) || str(labels['app.kubernetes.io/version']);
  const ns = str(md.NAMESPACE) || 'unknown';
  const sa = str(md.SERVICE_ACCOUNT);
  return {
    workload,
    namespace: ns,
    app: app || 'unknown',
    version: version || 'unknown',
    canonicalService: str(labels['service.istio.io/canonical-name']) || app || workload,
    canonicalRevision: str(labels['service.istio.io/canonical-revision']) || version || 'latest',
    cluster: str(md.CLUSTER_ID) || 'unknown',
    identity: sa && ns !== 'unknown' ? `spiffe://cluster.local/ns/${ns}/sa/${sa}` : '',
  };
}

/** The header value carrying `md` (computed once per proxy). */
export function encodePeerHeader(md: Record<string, unknown>): string {
  const keep: Record<string, unknown> = {};
  for (const k of [
    'NAME',
    'NAMESPACE',
    'LABELS',
    'WORKLOAD_NAME',
    'SERVICE_ACCOUNT',
    'CLUSTER_ID',
    'MESH_ID',
  ])
    if (md[k] !== undefined) keep[k] = md[k];
  return Buffer.from(encodeMessage('google.protobuf.Struct', structFromJson(keep))).toString('base64');
}

/** The peer in a header value, or null when it does not decode. */
export function decodePeerHeader(value: string): PeerInfo | null {
  try {
    const s = decodeMessage('google.protobuf.Struct', Buffer.from(value, 'base64'));
    return peerFromMetadata(structToJson(s));
  } catch {
    return null;
  }
}

/** Decoded peers by header value; bounded, since the values come from the network. */
export class PeerCache {
  private readonly map = new Map<string, PeerInfo>();
  constructor(private readonly max = 1024) {}
  /** The peer a header value names; UNKNOWN_PEER when absent or undecodable. */
  get(value: string | string[] | undefined): PeerInfo {
    if (typeof value !== 'string' || value === '') return UNKNOWN_PEER;
    let p = this.map.get(value);
    if (p === undefined) {
      p = decodePeerHeader(value) ?? UNKNOWN_PEER;
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(value, p);
    }
    return p;
  }
}
