// Compiles an HCM's `tracing` into its Tracer: the provider (envoy.tracers.zipkin → Zipkin v2 JSON,
// envoy.tracers.opentelemetry → OTLP) picks the reporter, shared by every HCM of the proxy that names
// the same collector, so listener updates keep one queue and one connection per collector.
import type {
  envoy_config_trace_v3_Tracing_Http as TracingProvider,
  envoy_config_trace_v3_ZipkinConfig as ZipkinConfig,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
} from '../../xds/envoy-types.js';
import type { SnapshotSource } from '../config/snapshot.js';
import { logger } from '../log.js';
import type { StatsStore } from '../stats/stats-store.js';
import { anyTypeName, boolValue } from '../util/values.js';
import { BatchReporter } from './batch-reporter.js';
import { postToCollector, type CollectorTarget } from './collector-client.js';
import type { SpanReporter } from './span.js';
import { Tracer, usesRequestIdForSampling, W3C_IDS, type SpanIdPolicy, type TracerNode } from './tracer.js';
import { zipkinJsonEncoder } from './zipkin-encoder.js';
import { otlpReporter } from './otlp-provider.js';

const log = logger('tracing');

/** What the tracer needs from the proxy. */
export interface TracingContext {
  readonly store: StatsStore;
  readonly source: SnapshotSource;
  readonly node?: TracerNode | null;
  /** The listener's traffic_direction (`INBOUND` makes SERVER spans). */
  readonly trafficDirection?: string;
}

const reporters = new WeakMap<StatsStore, Map<string, SpanReporter>>();

function shared(store: StatsStore, key: string, make: () => SpanReporter): SpanReporter {
  let m = reporters.get(store);
  if (!m) reporters.set(store, (m = new Map<string, SpanReporter>()));
  let r = m.get(key);
  if (!r) m.set(key, (r = make()));
  return r;
}

/**
 * Zipkin's span id policy. Envoy's defaults: 64-bit trace ids (trace_id_128bit false) and shared
 * SERVER spans (shared_span_context true); Istio sets 128-bit ids and no sharing.
 */
function zipkinIds(c: ZipkinConfig): SpanIdPolicy {
  // One span per request, with no upstream span: the split (SERVER downstream + CLIENT upstream) is not made.
  if (c.splitSpansForRequest === true)
    throw new Error(
      'splitSpansForRequest: true is not supported by this proxy (it makes one span per request, no upstream span)',
    );
  return { traceId128: c.traceId_128bit === true, sharedSpanContext: boolValue(c.sharedSpanContext, true) };
}

function zipkinTarget(c: ZipkinConfig): CollectorTarget {
  const cluster = c.collectorCluster ?? '';
  if (!cluster) throw new Error('collectorCluster: required');
  const version = c.collectorEndpointVersion ?? 'HTTP_JSON';
  if (version !== 'HTTP_JSON')
    throw new Error(`collectorEndpointVersion: ${version} is not supported (use HTTP_JSON)`);
  return {
    cluster,
    path: c.collectorEndpoint ?? '/api/v2/spans',
    hostname: c.collectorHostname ?? '',
    timeoutMs: 5000,
    headers: {},
  };
}

/** A provider's reporter (null: context propagation only) and span id policy. */
interface ProviderParts {
  readonly reporter: SpanReporter | null;
  readonly ids: SpanIdPolicy;
}

/** The reporter and id policy for a `tracing.provider` (no reporter when there is no provider). */
function reporterFor(provider: TracingProvider | undefined, ctx: TracingContext): ProviderParts {
  if (!provider) return { reporter: null, ids: W3C_IDS };
  const type = anyTypeName(provider.typedConfig);
  const name = provider.name ?? '';
  // The typed config's fields, as the message its type URL (or the tracer name) names.
  const cfg: object = provider.typedConfig ?? {};
  if (type === 'envoy.config.trace.v3.ZipkinConfig' || (!type && name === 'envoy.tracers.zipkin')) {
    const ids = zipkinIds(cfg);
    const t = zipkinTarget(cfg);
    const reporter = shared(ctx.store, `zipkin|${JSON.stringify(t)}`, () => {
      const send = (body: Buffer, done: Parameters<typeof postToCollector>[4]): void =>
        postToCollector(ctx.source, t, zipkinJsonEncoder.contentType, body, done);
      return new BatchReporter(ctx.store, 'zipkin', zipkinJsonEncoder, send);
    });
    return { reporter, ids };
  }
  if (
    type === 'envoy.config.trace.v3.OpenTelemetryConfig' ||
    (!type && name === 'envoy.tracers.opentelemetry')
  ) {
    const o = otlpReporter(cfg);
    return {
      reporter: shared(ctx.store, `otlp|${o.key}`, () => o.make(ctx.store, ctx.source)),
      ids: W3C_IDS,
    };
  }
  throw new Error(
    `provider: ${name || type} is not supported (envoy.tracers.zipkin, envoy.tracers.opentelemetry)`,
  );
}

/** Compiles `hcm.tracing`; null when the HCM does not trace. Throws on invalid provider config. */
export function compileTracer(hcm: HttpConnectionManager, ctx: TracingContext): Tracer | null {
  const tracing = hcm.tracing;
  if (!tracing) return null;
  if (boolValue(tracing.spawnUpstreamSpan, false))
    throw new Error(
      'tracing.spawnUpstreamSpan: true is not supported by this proxy (it makes one span per request, no upstream span)',
    );
  // Span logs of stream events only: the spans themselves are the same, so a warning, not a rejection.
  if (tracing.verbose === true)
    log.warn('tracing.verbose: true is not enforced: spans carry no stream-event logs (annotations)');
  let parts: ProviderParts;
  try {
    parts = reporterFor(tracing.provider, ctx);
  } catch (e) {
    throw new Error(`tracing.${(e as Error).message}`);
  }
  if (tracing.provider && parts.reporter === null) log.warn('tracing provider has no reporter');
  return new Tracer(
    tracing,
    ctx.trafficDirection === 'INBOUND',
    usesRequestIdForSampling(hcm),
    ctx.node ?? null,
    parts.reporter,
    parts.ids,
  );
}
