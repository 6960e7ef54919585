// One finished or in-flight span of the HCM (Envoy's Tracing::Span): ids, kind, timing and tags, in
// the neutral shape the Zipkin and OTLP reporters translate.

/** Span kind: the HCM of an inbound listener serves (SERVER), every other one calls (CLIENT). */
export type SpanKind = 'SERVER' | 'CLIENT';

/** A span of one request through one HCM. Fields are set once; tags are added at finish. */
export class Span {
  /** Operation name (Envoy's decorator operation), set at finish. */
  name = '';
  /** Duration in microseconds, set at finish. */
  durationUs = 0;
  /** Tags by name, in the order Envoy adds them. */
  readonly tags: Record<string, string> = {};
  /** The local endpoint's IP, set at finish. */
  localIp = '';
  /** A SERVER span that shares the caller's span id (Zipkin's shared_span_context). */
  shared = false;

  constructor(
    /** 32 (or 16) hex digits. */
    readonly traceId: string,
    /** 16 hex digits. */
    readonly spanId: string,
    /** '' for a root span. */
    readonly parentId: string,
    readonly kind: SpanKind,
    /** Whether the span is reported (sampled) or only propagated. */
    readonly sampled: boolean,
    /** Start, microseconds since the epoch. */
    readonly startUs: number,
    /** The local service name (Istio's `app.namespace`). */
    readonly serviceName: string,
  ) {}
}

/** Where finished sampled spans go (one per collector, shared by the HCMs of a proxy). */
export interface SpanReporter {
  /** Queues a finished span; never blocks, never throws (drops and counts when full). */
  report(span: Span): void;
}
