// envoy.tracers.opentelemetry: OTLP export of spans (not implemented yet: refused loudly).
import type { CollectorTarget } from './collector-client.js';
import type { SpanReporter } from './span.js';
import type { TracerNode } from './tracer.js';

/** The collector of an OpenTelemetryConfig and how to build its reporter. */
export function otlpTarget(
  _cfg: any,
  _node: TracerNode | null,
): { target: CollectorTarget; key: string; make: (ctx: unknown) => SpanReporter } {
  throw new Error('provider: envoy.tracers.opentelemetry is not supported yet');
}
