// Envoy circuit breaking for one cluster: connection, pending-request, request and retry budgets.
import { u32 } from '../util/values.js';
import type { Gauge, Scope } from '../stats/stats-store.js';
import type { envoy_config_cluster_v3_CircuitBreakers as CircuitBreakers } from '../../xds/envoy-types.js';

/** Thresholds of one priority (Envoy's defaults: 1024 connections/pending/requests, 3 retries). */
export interface Thresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

/** Parses `cluster.circuitBreakers.thresholds` (DEFAULT priority) with Envoy's defaults. */
export function parseThresholds(cb: CircuitBreakers | undefined): Thresholds {
  const list = cb?.thresholds ?? [];
  const t = list.find((x) => (x.priority ?? 'DEFAULT') === 'DEFAULT') ?? {};
  return {
    maxConnections: u32(t.maxConnections, 1024),
    maxPendingRequests: u32(t.maxPendingRequests, 1024),
    maxRequests: u32(t.maxRequests, 1024),
    maxRetries: u32(t.maxRetries, 3),
  };
}

/** Live resource counts checked against the thresholds, with Envoy's circuit_breakers.default.* gauges. */
export class CircuitBreaker {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;
  private readonly cxOpen: Gauge;
  private readonly rqPendingOpen: Gauge;
  private readonly rqOpen: Gauge;
  private readonly rqRetryOpen: Gauge;

  constructor(
    readonly limits: Thresholds,
    scope: Scope,
  ) {
    this.cxOpen = scope.gauge('circuit_breakers.default.cx_open');
    this.rqPendingOpen = scope.gauge('circuit_breakers.default.rq_pending_open');
    this.rqOpen = scope.gauge('circuit_breakers.default.rq_open');
    this.rqRetryOpen = scope.gauge('circuit_breakers.default.rq_retry_open');
  }

  canConnect(): boolean {
    return this.connections < this.limits.maxConnections;
  }
  canQueue(): boolean {
    return this.pending < this.limits.maxPendingRequests;
  }
  canRequest(): boolean {
    return this.requests < this.limits.maxRequests;
  }
  canRetry(): boolean {
    return this.retries < this.limits.maxRetries;
  }

  connectionOpened(): void {
    this.connections++;
    this.cxOpen.set(this.connections >= this.limits.maxConnections ? 1 : 0);
  }
  connectionClosed(): void {
    this.connections--;
    this.cxOpen.set(this.connections >= this.limits.maxConnections ? 1 : 0);
  }
  pendingAdded(): void {
    this.pending++;
    this.rqPendingOpen.set(this.pending >= this.limits.maxPendingRequests ? 1 : 0);
  }
  pendingRemoved(): void {
    this.pending--;
    this.rqPendingOpen.set(this.pending >= this.limits.maxPendingRequests ? 1 : 0);
  }
  requestStarted(): void {
    this.requests++;
    this.rqOpen.set(this.requests >= this.limits.maxRequests ? 1 : 0);
  }
  requestFinished(): void {
    this.requests--;
    this.rqOpen.set(this.requests >= this.limits.maxRequests ? 1 : 0);
  }
  retryStarted(): void {
    this.retries++;
    this.rqRetryOpen.set(this.retries >= this.limits.maxRetries ? 1 : 0);
  }
  retryFinished(): void {
    this.retries--;
    this.rqRetryOpen.set(this.retries >= this.limits.maxRetries ? 1 : 0);
  }
}
