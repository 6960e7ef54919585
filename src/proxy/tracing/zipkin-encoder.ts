// Zipkin API v2 JSON (Envoy's collector_endpoint_version HTTP_JSON): one array of spans per report.
import type { SpanEncoder } from './batch-reporter.js';
import type { Span } from './span.js';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind: string;
  name: string;
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string; ipv4?: string; ipv6?: string };
  tags: Record<string, string>;
  shared?: boolean;
}

/** A span in Zipkin v2's JSON model. */
export function toZipkin(s: Span): ZipkinSpan {
  const z: ZipkinSpan = {
    traceId: s.traceId,
    id: s.spanId,
    kind: s.kind,
    name: s.name,
    timestamp: s.startUs,
    duration: Math.max(1, s.durationUs),
    localEndpoint: { serviceName: s.serviceName },
    tags: s.tags,
  };
  if (s.parentId !== '') z.parentId = s.parentId;
  if (s.shared) z.shared = true;
  if (s.localIp !== '') {
    if (s.localIp.includes(':')) z.localEndpoint.ipv6 = s.localIp;
    else z.localEndpoint.ipv4 = s.localIp;
  }
  return z;
}

/** Zipkin v2 JSON encoder. */
export const zipkinJsonEncoder: SpanEncoder = {
  contentType: 'application/json',
  encode: (spans) => Buffer.from(JSON.stringify(spans.map(toZipkin))),
};
