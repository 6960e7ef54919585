// Envoy's RetryPolicy compiled: retry_on flags, attempts, per-try timeout, status codes, headers, backoff.
import { HeaderMatcher } from '../../matchers/header-matcher.js';
import type { envoy_config_route_v3_RetryPolicy as RetryPolicyConfig } from '../../../xds/envoy-types.js';
import { durationMs, u32 } from '../../util/values.js';

/** retry_on bits. */
export const RetryOn = {
  X5XX: 1 << 0,
  GATEWAY_ERROR: 1 << 1,
  RESET: 1 << 2,
  CONNECT_FAILURE: 1 << 3,
  RETRIABLE_4XX: 1 << 4,
  REFUSED_STREAM: 1 << 5,
  RETRIABLE_STATUS_CODES: 1 << 6,
  RETRIABLE_HEADERS: 1 << 7,
  GRPC_CANCELLED: 1 << 8,
  GRPC_DEADLINE_EXCEEDED: 1 << 9,
  GRPC_INTERNAL: 1 << 10,
  GRPC_RESOURCE_EXHAUSTED: 1 << 11,
  GRPC_UNAVAILABLE: 1 << 12,
  RESET_BEFORE_REQUEST: 1 << 13,
  ENVOY_RATELIMITED: 1 << 14,
} as const;

const NAMES: Record<string, number> = {
  '5xx': RetryOn.X5XX,
  'gateway-error': RetryOn.GATEWAY_ERROR,
  reset: RetryOn.RESET,
  'connect-failure': RetryOn.CONNECT_FAILURE,
  'retriable-4xx': RetryOn.RETRIABLE_4XX,
  'refused-stream': RetryOn.REFUSED_STREAM,
  'retriable-status-codes': RetryOn.RETRIABLE_STATUS_CODES,
  'retriable-headers': RetryOn.RETRIABLE_HEADERS,
  cancelled: RetryOn.GRPC_CANCELLED,
  'deadline-exceeded': RetryOn.GRPC_DEADLINE_EXCEEDED,
  internal: RetryOn.GRPC_INTERNAL,
  'resource-exhausted': RetryOn.GRPC_RESOURCE_EXHAUSTED,
  unavailable: RetryOn.GRPC_UNAVAILABLE,
  'reset-before-request': RetryOn.RESET_BEFORE_REQUEST,
  'envoy-ratelimited': RetryOn.ENVOY_RATELIMITED,
  'http3-post-connect-failure': 0,
};

/** Parses a comma-separated retry_on string (unknown names are ignored, as Envoy does). */
export function parseRetryOn(s: string): number {
  let bits = 0;
  for (const part of s.split(',')) bits |= NAMES[part.trim()] ?? 0;
  return bits;
}

/** A compiled route/virtual-host retry policy. */
export class RetryPolicy {
  readonly retryOn: number;
  /** Retries after the first try (Envoy default 1 when a policy exists). */
  readonly numRetries: number;
  /** Per-try timeout in ms, 0 = none. */
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: readonly number[];
  readonly retriableHeaders: readonly HeaderMatcher[];
  /** Backoff base and cap in ms (Envoy: 25 ms, 10 × base). */
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;

  constructor(p: RetryPolicyConfig) {
    this.retryOn = parseRetryOn(String(p.retryOn ?? ''));
    this.numRetries = u32(p.numRetries, 1);
    this.perTryTimeoutMs = durationMs(p.perTryTimeout, 0);
    this.retriableStatusCodes = (p.retriableStatusCodes ?? []).map(Number);
    this.retriableHeaders = (p.retriableHeaders ?? []).map((h) => new HeaderMatcher(h));
    this.baseIntervalMs = durationMs(p.retryBackOff?.baseInterval, 25);
    this.maxIntervalMs = durationMs(p.retryBackOff?.maxInterval, this.baseIntervalMs * 10);
  }
}

/** Jittered exponential backoff (Envoy's): the n-th retry (1-based) waits random [0, base·2^(n-1)), capped. */
export function backoffMs(policy: RetryPolicy, retryNumber: number): number {
  const ceiling = Math.min(policy.baseIntervalMs * 2 ** (retryNumber - 1), policy.maxIntervalMs);
  return Math.min(Math.floor(Math.random() * ceiling), policy.maxIntervalMs);
}

/** gRPC status codes → the retry_on bit that retries them. */
export function grpcRetryBit(status: number): number {
  switch (status) {
    case 1:
      return RetryOn.GRPC_CANCELLED;
    case 4:
      return RetryOn.GRPC_DEADLINE_EXCEEDED;
    case 13:
      return RetryOn.GRPC_INTERNAL;
    case 8:
      return RetryOn.GRPC_RESOURCE_EXHAUSTED;
    case 14:
      return RetryOn.GRPC_UNAVAILABLE;
    default:
      return 0;
  }
}
