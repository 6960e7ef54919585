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
import { anyTypeName } from '../util/values.js';
import { BatchReporter } from './batch-reporter.js';
import { postToCollector, type CollectorTarget } from './collector-client.js';
import type { SpanReporter } from './span.js';
import { Tracer, usesRequestIdForSampling, type TracerNode } from './tracer.js';
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

/** The reporter for a `tracing.provider`, or null when there is none (context propagation only). */
function reporterFor(provider: TracingProvider | undefined, ctx: TracingContext): SpanReporter | null {
  if (!provider) return null;
  const type = anyTypeName(provider.typedConfig);
  const name = provider.name ?? '';
  // The typed config's fields, as the message its type URL (or the tracer name) names.
  const cfg: object = provider.typedConfig ?? {};
  if (type === 'envoy.config.trace.v3.ZipkinConfig' || (!type && name === 'envoy.tracers.zipkin')) {
    const t = zipkinTarget(cfg);
    return shared(ctx.store, `zipkin|${JSON.stringify(t)}`, () => {
      const send = (body: Buffer, done: Parameters<typeof postToCollector>[4]): void =>
        postToCollector(ctx.source, t, zipkinJsonEncoder.contentType, body, done);
      return new BatchReporter(ctx.store, 'zipkin', zipkinJsonEncoder, send);
    });
  }
  if (
    type === 'envoy.config.trace.v3.OpenTelemetryConfig' ||
    (!type && name === 'envoy.tracers.opentelemetry')
  ) {
    const o = otlpReporter(cfg);
    return shared(ctx.store, `otlp|${o.key}`, () => o.make(ctx.store, ctx.source));
  }
  throw new Error(
    `provider: ${name || type} is not supported (envoy.tracers.zipkin, envoy.tracers.opentelemetry)`,
  );
}

/** Compiles `hcm.tracing`; null when the HCM does not trace. Throws on invalid provider config. */
export function compileTracer(hcm: HttpConnectionManager, ctx: TracingContext): Tracer | null {
  const tracing = hcm.tracing;
  if (!tracing) return null;
  let reporter: SpanReporter | null;
  try {
    reporter = reporterFor(tracing.provider, ctx);
  } catch (e) {
    throw new Error(`tracing.${(e as Error).message}`);
  }
  if (tracing.provider && reporter === null) log.warn('tracing provider has no reporter');
  return new Tracer(
    tracing,
    ctx.trafficDirection === 'INBOUND',
    usesRequestIdForSampling(hcm),
    ctx.node ?? null,
    reporter,
  );
}
