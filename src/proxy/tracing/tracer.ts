// The HCM's tracer (Envoy's HttpConnectionManager `tracing` + its provider): decides whether a request
// is traced (x-request-id status, x-client-trace-id, x-envoy-force-trace, random sampling, the
// parent's sampled flag), starts one span per request (SERVER on inbound listeners, CLIENT elsewhere),
// propagates its context to the next hop, and at the end tags and reports it. Null when the HCM has
// no `tracing`, so untraced proxies pay nothing.
import { randomBytes } from 'node:crypto';
import type { HeaderMap } from '../http/route/header-mutation.js';
import { flagsToString } from '../http/response-flags.js';
import { u32, boolValue } from '../util/values.js';
import type {
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager_Tracing as HcmTracing,
  envoy_extensions_request_id_uuid_v3_UuidRequestIdConfig as UuidRequestIdConfig,
} from '../../xds/envoy-types.js';
import { applyCustomTags, compileCustomTags, type CustomTag } from './custom-tags.js';
import { requestIdModulo, traceStatusOf, TraceStatus, withTraceStatus } from './request-id.js';
import { Span, type SpanKind, type SpanReporter } from './span.js';
import { extractContext, injectContext, Sampled } from './trace-context.js';

/** What the tracer reads from a request (ActiveRequest implements it). */
export interface TracedRequest {
  readonly headers: HeaderMap;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly protocol: string;
  readonly conn: { readonly remoteAddress: string; readonly localAddress: string };
  readonly responseCode: number;
  readonly responseFlags: number;
  readonly upstreamCluster: string | null;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly startTime: number;
  readonly durationMs: number;
}

/** Who this proxy is, for span tags and the local endpoint. */
export interface TracerNode {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A percent wrapper (`{ value }`) in parts of 10 000 (Envoy compares the request id modulo 10 000). */
function per10k(p: unknown, dflt: number): number {
  const v = u32(p, dflt);
  return Number.isFinite(v) ? Math.round(Math.max(0, Math.min(100, v)) * 100) : dflt * 100;
}

/** Istio's tracing service name: `<canonical service or app>.<namespace>`, or the node id's. */
function serviceName(node: TracerNode | null): string {
  const md = node?.metadata ?? {};
  const labels = (md.LABELS ?? {}) as Record<string, string>;
  const svc =
    labels['service.istio.io/canonical-name'] ??
    labels['app.kubernetes.io/name'] ??
    labels.app ??
    String(md.WORKLOAD_NAME ?? '');
  const ns = String(md.NAMESPACE ?? '');
  if (svc && ns) return `${svc}.${ns}`;
  return svc || node?.id || 'mizzen-proxy';
}

function hostOf(authority: string): string {
  const i = authority.lastIndexOf(':');
  return i > 0 && !authority.endsWith(']') ? authority.slice(0, i) : authority;
}

function ipOf(address: string): string {
  const i = address.lastIndexOf(':');
  const ip = i > 0 ? address.slice(0, i) : address;
  return ip.startsWith('[') ? ip.slice(1, -1) : ip;
}

function newId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * How a provider makes span ids: Zipkin's `trace_id_128bit` (new traces get 128-bit ids, else 64-bit)
 * and `shared_span_context` (a SERVER span reuses the incoming span id and its parent, as Zipkin's
 * shared RPC spans). OpenTelemetry and propagation-only tracing: 128-bit ids, never shared.
 */
export interface SpanIdPolicy {
  readonly traceId128: boolean;
  readonly sharedSpanContext: boolean;
}

/** The span id policy of OpenTelemetry (and of tracing with no provider). */
export const W3C_IDS: SpanIdPolicy = { traceId128: true, sharedSpanContext: false };

/** Compiled HCM tracing. Immutable. */
export class Tracer {
  readonly kind: SpanKind;
  /** random_sampling, client_sampling, overall_sampling in parts of 10 000. */
  private readonly random: number;
  private readonly client: number;
  private readonly overall: number;
  private readonly maxPathTagLength: number;
  private readonly customTags: readonly CustomTag[];
  private readonly serviceName: string;
  private readonly nodeId: string;

  constructor(
    /** The canonical HCM `tracing` message. */
    tracing: HcmTracing,
    /** True on inbound listeners (Envoy's Ingress operation: SERVER spans). */
    ingress: boolean,
    /** Uses x-request-id to carry and derive the sampling decision (UuidRequestIdConfig). */
    private readonly useRequestId: boolean,
    node: TracerNode | null,
    /** Where sampled spans go; null when spans are not reported (propagation only). */
    readonly reporter: SpanReporter | null,
    /** The provider's span id policy. */
    private readonly ids: SpanIdPolicy = W3C_IDS,
  ) {
    this.kind = ingress ? 'SERVER' : 'CLIENT';
    this.random = per10k(tracing.randomSampling, 100);
    this.client = per10k(tracing.clientSampling, 100);
    this.overall = per10k(tracing.overallSampling, 100);
    this.maxPathTagLength = u32(tracing.maxPathTagLength, 256);
    this.customTags = compileCustomTags(tracing.customTags);
    this.serviceName = serviceName(node);
    this.nodeId = node?.id ?? '';
  }

  /** The sampling decision (Envoy's mutateTracingRequestHeader), written back into x-request-id. */
  private decide(h: HeaderMap): boolean {
    const ridV = h['x-request-id'];
    const rid = typeof ridV === 'string' ? ridV : '';
    let status = this.useRequestId ? traceStatusOf(rid) : TraceStatus.NoTrace;
    const roll = this.useRequestId && rid !== '' ? requestIdModulo(rid, 10_000) : -1;
    const r = roll >= 0 ? roll : Math.floor(Math.random() * 10_000);
    if (status === TraceStatus.NoTrace) {
      if (h['x-client-trace-id'] !== undefined && Math.random() * 10_000 < this.client)
        status = TraceStatus.Client;
      else if (h['x-envoy-force-trace'] !== undefined) status = TraceStatus.Forced;
      else if (r < this.random) status = TraceStatus.Sampled;
    }
    if (r >= this.overall) status = TraceStatus.NoTrace;
    if (this.useRequestId && rid !== '') h['x-request-id'] = withTraceStatus(rid, status);
    return status !== TraceStatus.NoTrace;
  }

  /** Starts the request's span and writes its context into the request headers for the next hop. */
  startSpan(req: TracedRequest): Span {
    const h = req.headers;
    const traced = this.decide(h);
    const parent = extractContext(h);
    let traceId: string;
    let spanId: string;
    let parentId = '';
    let shared = false;
    if (parent !== null && parent.traceId !== '') {
      traceId = parent.traceId;
      if (this.kind === 'SERVER' && this.ids.sharedSpanContext) {
        // Zipkin's shared span: the server half of the caller's RPC span, same id and parent.
        spanId = parent.spanId;
        parentId = parent.parentId;
        shared = true;
      } else {
        spanId = newId();
        parentId = parent.spanId;
      }
    } else {
      traceId = randomBytes(this.ids.traceId128 ? 16 : 8).toString('hex');
      spanId = newId();
    }
    // A parent's explicit decision wins over this proxy's (B3 / W3C sampled flags).
    const sampled =
      parent !== null && parent.sampled !== Sampled.Unknown ? parent.sampled === Sampled.Yes : traced;
    const span = new Span(
      traceId,
      spanId,
      parentId,
      this.kind,
      sampled,
      req.startTime * 1000,
      this.serviceName,
    );
    span.shared = shared;
    injectContext(h, traceId, span.spanId, parentId, sampled);
    return span;
  }

  /** Tags the finished span as Envoy does and reports it when sampled. */
  finishSpan(req: TracedRequest, span: Span): void {
    if (!span.sampled || this.reporter === null) return;
    span.durationUs = Math.round(req.durationMs * 1000);
    const cluster = req.upstreamCluster ?? '';
    span.name = operationName(this.kind, cluster, req.authority, req.conn.localAddress);
    span.localIp = ipOf(req.conn.localAddress);
    const t = span.tags;
    const h = req.headers;
    const hv = (n: string): string => {
      const v = h[n];
      return v === undefined ? '' : typeof v === 'string' ? v : v.join(',');
    };
    t['component'] = 'proxy';
    t['node_id'] = this.nodeId;
    t['guid:x-request-id'] = hv('x-request-id');
    const ctid = hv('x-client-trace-id');
    if (ctid !== '') t['guid:x-client-trace-id'] = ctid;
    // Envoy: x-forwarded-proto (what the first proxy saw, not this hop's mTLS) and the path before
    // rewrites, the path cut at max_path_tag_length.
    const path = hv('x-envoy-original-path') || req.path;
    t['http.url'] =
      `${hv('x-forwarded-proto') || req.scheme}://${req.authority}` +
      (path.length > this.maxPathTagLength ? path.slice(0, this.maxPathTagLength) : path);
    t['http.method'] = req.method;
    t['downstream_cluster'] = hv('x-envoy-downstream-service-cluster') || '-';
    t['user_agent'] = hv('user-agent') || '-';
    t['http.protocol'] = req.protocol;
    t['peer.address'] = ipOf(req.conn.remoteAddress);
    applyCustomTags(this.customTags, h, t);
    t['request_size'] = String(req.bytesReceived);
    t['response_size'] = String(req.bytesSent);
    t['http.status_code'] = String(req.responseCode);
    t['response_flags'] = flagsToString(req.responseFlags);
    t['upstream_cluster'] = cluster || '-';
    t['upstream_cluster.name'] = clusterName(cluster);
    if (req.responseCode === 0 || req.responseCode >= 500) t['error'] = 'true';
    this.reporter.report(span);
  }
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → the service host. */
function clusterName(cluster: string): string {
  if (cluster === '') return '-';
  const p = cluster.split('|');
  return p.length === 4 && p[3] !== '' ? p[3] : cluster;
}

/** Istio's route decorator operation: `<service host>:<port>/*`. */
function operationName(kind: SpanKind, cluster: string, authority: string, local: string): string {
  const p = cluster.split('|');
  if (p.length === 4 && p[3] !== '') return `${p[3]}:${p[1]}/*`;
  const port = p.length === 4 ? p[1] : local.slice(local.lastIndexOf(':') + 1);
  const host = hostOf(authority) || (kind === 'SERVER' ? 'inbound' : 'outbound');
  return `${host}:${port}/*`;
}

/** True when a request id extension asks for random sampling instead of the request id (Envoy's UuidRequestIdConfig). */
export function usesRequestIdForSampling(hcm: HttpConnectionManager): boolean {
  const uuid = hcm.requestIdExtension?.typedConfig as UuidRequestIdConfig | undefined;
  return boolValue(uuid?.useRequestIdForTraceSampling, true);
}
