// Batches finished spans for one collector (Envoy's Zipkin/OpenTelemetry reporters): a bounded queue
// flushed when it holds min_flush_spans or on a coarse timer, one report in flight at a time, spans
// dropped and counted when the queue is full so the request path never waits or grows memory.
import type { Counter, StatsStore } from '../stats/stats-store.js';
import { SendResult } from './collector-client.js';
import type { Span, SpanReporter } from './span.js';

/** Envoy's defaults: flush at 5 spans or every 5 s. */
export const MIN_FLUSH_SPANS = 5;
export const FLUSH_INTERVAL_MS = 5000;
/** Spans kept while a report is in flight or the collector is slow; more are dropped. */
export const MAX_QUEUED_SPANS = 4096;
/** Spans per report at most. */
const MAX_BATCH = 512;

/** Encodes a batch into the collector's wire format. */
export interface SpanEncoder {
  readonly contentType: string;
  encode(spans: readonly Span[]): Buffer;
}

/** Delivers one encoded report (HTTP POST or a gRPC call); calls `done` exactly once, never throws. */
export type SpanSender = (body: Buffer, done: (r: SendResult) => void) => void;

/** A collector's reporter with Envoy's `tracing.<driver>.` stats. */
export class BatchReporter implements SpanReporter {
  private queue: Span[] = [];
  private inFlight = false;
  private readonly timer: NodeJS.Timeout;
  private readonly spansSent: Counter;
  private readonly spansDropped: Counter;
  private readonly reportsSent: Counter;
  private readonly reportsDropped: Counter;
  private readonly reportsFailed: Counter;
  private readonly skippedNoCluster: Counter;
  private readonly timerFlushed: Counter;
  private readonly onSent: (r: SendResult) => void;
  private batchSize = 0;

  constructor(
    store: StatsStore,
    /** `zipkin` or `opentelemetry` (Envoy's `tracing.<driver>.` stats prefix). */
    driver: string,
    private readonly encoder: SpanEncoder,
    private readonly sender: SpanSender,
    private readonly minFlushSpans = MIN_FLUSH_SPANS,
    flushIntervalMs = FLUSH_INTERVAL_MS,
  ) {
    const s = store.scope(`tracing.${driver}.`, `tracing.${driver}.`);
    this.spansSent = s.counter('spans_sent');
    this.spansDropped = s.counter('spans_dropped');
    this.reportsSent = s.counter('reports_sent');
    this.reportsDropped = s.counter('reports_dropped');
    this.reportsFailed = s.counter('reports_failed');
    this.skippedNoCluster = s.counter('reports_skipped_no_cluster');
    this.timerFlushed = s.counter('timer_flushed');
    this.onSent = (r) => this.sent(r);
    this.timer = setInterval(() => {
      if (this.queue.length === 0) return;
      this.timerFlushed.inc();
      this.flush();
    }, flushIntervalMs);
    this.timer.unref();
  }

  report(span: Span): void {
    if (this.queue.length >= MAX_QUEUED_SPANS) {
      this.spansDropped.inc();
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.minFlushSpans) this.flush();
  }

  /** Sends the queued spans now (one report in flight at a time). */
  flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
    this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
    let body: Buffer;
    try {
      body = this.encoder.encode(batch);
    } catch {
      this.reportsFailed.inc();
      return;
    }
    this.inFlight = true;
    this.batchSize = batch.length;
    this.sender(body, this.onSent);
  }

  private sent(r: SendResult): void {
    this.inFlight = false;
    switch (r) {
      case SendResult.Sent:
        this.reportsSent.inc();
        this.spansSent.add(this.batchSize);
        break;
      case SendResult.NoCluster:
        this.skippedNoCluster.inc();
        break;
      case SendResult.Dropped:
        this.reportsDropped.inc();
        break;
      default:
        this.reportsFailed.inc();
    }
    if (this.queue.length >= this.minFlushSpans) this.flush();
  }

  /** Stops the flush timer (tests). */
  close(): void {
    clearInterval(this.timer);
  }
}
