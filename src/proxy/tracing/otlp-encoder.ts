// OTLP ExportTraceServiceRequest (protobuf, as Envoy's OpenTelemetry tracer sends over HTTP and gRPC),
// encoded by the official @opentelemetry/otlp-transformer from read-only views of Mizzen's spans.
import { createRequire } from 'node:module';
import type { Resource } from '@opentelemetry/resources';
import type { SpanEncoder } from './batch-reporter.js';
import type { Span } from './span.js';

type Transformer = typeof import('@opentelemetry/otlp-transformer');
type Resources = typeof import('@opentelemetry/resources');
type ReadableSpan = Parameters<Transformer['ProtobufTraceSerializer']['serializeRequest']>[0][number];

/**
 * The OpenTelemetry packages (~0.75 MiB of source with their dependencies), loaded when the first OTLP
 * provider is configured rather than by every proxy at start: most sidecars never trace over OTLP.
 */
function openTelemetry(): { transformer: Transformer; resources: Resources } {
  const require = createRequire(import.meta.url);
  return {
    transformer: require('@opentelemetry/otlp-transformer') as Transformer,
    resources: require('@opentelemetry/resources') as Resources,
  };
}

/** OpenTelemetry's SpanKind and SpanStatusCode values (the API package's enums). */
const KIND_SERVER = 1;
const KIND_CLIENT = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;
const SCOPE = { name: 'mizzen-proxy' };

function hrTime(us: number): [number, number] {
  return [Math.floor(us / 1e6), (us % 1e6) * 1000];
}

/** A finished span as the transformer reads it. */
function readable(s: Span, resource: Resource): ReadableSpan {
  const traceId = s.traceId.length === 32 ? s.traceId : s.traceId.padStart(32, '0');
  const ctx = { traceId, spanId: s.spanId, traceFlags: 1, isRemote: false };
  const parent =
    s.parentId !== '' ? { traceId, spanId: s.parentId, traceFlags: 1, isRemote: true } : undefined;
  const end = s.startUs + s.durationUs;
  return {
    name: s.name,
    kind: s.kind === 'SERVER' ? KIND_SERVER : KIND_CLIENT,
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime: hrTime(s.startUs),
    endTime: hrTime(end),
    duration: hrTime(s.durationUs),
    status: { code: s.tags['error'] === 'true' ? STATUS_ERROR : STATUS_UNSET },
    attributes: s.tags,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** OTLP protobuf encoder; the resource's `service.name` is the provider's service name or the span's. */
export function otlpProtobufEncoder(serviceName: string): SpanEncoder {
  const { transformer, resources: otelResources } = openTelemetry();
  const { ProtobufTraceSerializer } = transformer;
  const resources = new Map<string, Resource>();
  const resourceOf = (name: string): Resource => {
    let r = resources.get(name);
    if (!r) resources.set(name, (r = otelResources.resourceFromAttributes({ 'service.name': name })));
    return r;
  };
  return {
    contentType: 'application/x-protobuf',
    encode(spans) {
      const out = ProtobufTraceSerializer.serializeRequest(
        spans.map((s) => readable(s, resourceOf(serviceName || s.serviceName))),
      );
      if (!out) throw new Error('OTLP serialization failed');
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
  };
}
