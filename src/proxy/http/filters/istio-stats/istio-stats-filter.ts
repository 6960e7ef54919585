// istio.stats: Istio's peer metadata exchange and standard request metrics for one HCM. Outbound
// (sidecar outbound, gateways) reports as source and sends this proxy's metadata upstream; inbound
// reports as destination and answers with its metadata. Peer headers are stripped both ways.
import type { ActiveRequest } from '../../active-request.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import {
  IstioMetrics,
  serviceOfHost,
  UNKNOWN_SERVICE,
  type DestService,
  type Reporter,
} from './istio-metrics.js';
import { compileStatsConfig, type StatsConfig } from './stats-config.js';
import {
  encodePeerHeader,
  PEER_METADATA,
  PEER_METADATA_ID,
  PeerCache,
  peerFromMetadata,
  UNKNOWN_PEER,
  type PeerInfo,
} from './peer-metadata.js';

const MAX_CACHED = 1024;

/** The istio.stats filter of one HCM. */
export class IstioStatsFilter implements HttpFilter {
  private readonly slot: number;
  private readonly metrics: IstioMetrics;
  private readonly reporter: Reporter;
  private readonly headerValue: string;
  private readonly nodeId: string;
  private readonly peers = new PeerCache();
  /** Destination services by upstream cluster (outbound) or authority (inbound). */
  private readonly services = new Map<string, DestService>();
  readonly onDestroy: (req: ActiveRequest) => void;
  readonly encodeHeaders: (req: ActiveRequest, status: number, headers: HeaderMap) => void;

  constructor(
    readonly name: string,
    private readonly config: StatsConfig,
    ctx: FilterContext,
  ) {
    this.slot = ctx.slot;
    const md = ctx.node?.metadata ?? {};
    this.nodeId = ctx.node?.id ?? '';
    this.reporter = config.inbound ? 'destination' : 'source';
    this.metrics = new IstioMetrics(ctx.scope.store, this.reporter, peerFromMetadata(md), config.overrides);
    this.headerValue = encodePeerHeader(md);
    this.onDestroy = (req) => this.record(req);
    this.encodeHeaders = config.inbound
      ? (_req, _s, h) => {
          h[PEER_METADATA] = this.headerValue;
          h[PEER_METADATA_ID] = this.nodeId;
        }
      : (req, _s, h) => {
          // The upstream's answer: remember who served it, and keep it from the app.
          const v = h[PEER_METADATA];
          if (v !== undefined) {
            req.filterState[this.slot] = this.peers.get(v);
            delete h[PEER_METADATA];
            delete h[PEER_METADATA_ID];
          }
        };
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const h = req.headers;
    if (this.config.inbound) {
      const v = h[PEER_METADATA];
      if (v !== undefined) {
        req.filterState[this.slot] = this.peers.get(v);
        delete h[PEER_METADATA];
        delete h[PEER_METADATA_ID];
      }
    } else {
      // Whatever a downstream sent is replaced by this proxy's own identity (gateways included).
      h[PEER_METADATA] = this.headerValue;
      h[PEER_METADATA_ID] = this.nodeId;
    }
    return FilterStatus.Continue;
  }

  private record(req: ActiveRequest): void {
    const peer = (req.filterState[this.slot] as PeerInfo | null) ?? UNKNOWN_PEER;
    const svc = this.config.inbound ? this.inboundService(req.authority) : this.outboundService(req);
    const up = req.upstreamPrincipals;
    const principal = this.config.inbound ? req.conn.peerPrincipal : up.peer;
    const s = this.metrics.requestSeries(
      svc,
      peer,
      principal,
      req.responseCode,
      req.responseFlags,
      req.isGrpc ? grpcStatus(req) : -1,
      this.config.inbound ? '' : up.local,
    );
    if (s.requests !== null) s.requests.inc();
    if (s.duration !== null) s.duration.record(req.durationMs);
    // Istio records the downstream's wire bytes, headers included (not the body alone).
    if (s.requestBytes !== null) s.requestBytes.record(req.headerBytesReceived + req.bytesReceived);
    if (s.responseBytes !== null) s.responseBytes.record(req.wireBytesSent);
  }

  private outboundService(req: ActiveRequest): DestService {
    const c = req.upstreamCluster;
    if (c === null) return req.authority ? this.cached(req.authority, serviceOfHost) : UNKNOWN_SERVICE;
    return this.cached(c, clusterService);
  }

  private inboundService(authority: string): DestService {
    return this.cached(authority, (a) => this.config.matchService(a));
  }

  private cached(key: string, make: (k: string) => DestService): DestService {
    let s = this.services.get(key);
    if (s === undefined) {
      s = make(key);
      if (this.services.size >= MAX_CACHED) this.services.clear();
      this.services.set(key, s);
    }
    return s;
  }
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → reviews.default...; other clusters by name. */
function clusterService(cluster: string): DestService {
  const parts = cluster.split('|');
  if (parts.length === 4) return serviceOfHost(parts[3]);
  return { host: cluster, name: cluster, namespace: 'unknown' };
}

/** The grpc-status of a finished gRPC request (trailers, else headers); 20 when there is none. */
function grpcStatus(req: ActiveRequest): number {
  const v = req.trailer('grpc-status') ?? req.respHeader('grpc-status');
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 && n < 20 ? n : 20;
}

/** Factory for `istio.stats` (config: a TypedStruct of Istio's stats.PluginConfig). */
export const istioStatsFactory: HttpFilterFactory = {
  names: ['istio.stats'],
  configTypes: ['stats.PluginConfig'],
  create: (name, typedConfig, ctx) => new IstioStatsFilter(name, compileStatsConfig(typedConfig), ctx),
  compilePerRoute: null,
};
