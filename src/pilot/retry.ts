// VirtualService retries → Envoy RetryPolicy, with Istio's defaults when no retries block is given.
import type { HTTPRetry } from '../api/kinds/networking/virtual-service.js';
import { findType } from '../xds/protos.js';
import type {
  envoy_config_route_v3_RetryPolicy as RetryPolicy,
  envoy_config_route_v3_RetryPolicy_RetryHostPredicate as RetryHostPredicate,
} from '../xds/envoy-types.js';
import { anyOf, duration, durationMs, TYPES, wrap } from './envoy.js';

/**
 * Istio's default retryOn. 503 left the default set in 2024 (replayed non-idempotent requests);
 * `retriable-status-codes` stays but no code is listed.
 */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/** Istio's default number of retries. */
export const DEFAULT_RETRY_ATTEMPTS = 2;

const PREVIOUS_HOSTS = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
let predicateLoadable: boolean | null = null;

/** Whether the previous_hosts proto is among the loaded Envoy protos (else the Any could not be encoded). */
function canSendPredicate(): boolean {
  predicateLoadable ??= findType(PREVIOUS_HOSTS) !== null;
  return predicateLoadable;
}

/** Istio's retry host predicate: prefer a host not tried before. */
function previousHostsPredicate(): RetryHostPredicate[] {
  return [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typedConfig: anyOf(TYPES.PREVIOUS_HOSTS, {}),
    },
  ];
}

/** Options for {@link translateRetry}. */
export interface RetryOptions {
  /** Whether to add the previous_hosts predicate (Envoy and Mizzen proxies; not proxyless gRPC). */
  hostPredicate: boolean;
}

/** The RetryPolicy for a route; null when retries are disabled (`attempts: 0`). */
export function translateRetry(r: HTTPRetry | undefined, opts: RetryOptions): RetryPolicy | null {
  if (r && r.attempts === 0) return null;
  const out: RetryPolicy = {
    retryOn: DEFAULT_RETRY_ON,
    numRetries: wrap(r?.attempts ?? DEFAULT_RETRY_ATTEMPTS),
  };
  if (r?.retryOn) {
    const policies: string[] = [];
    const codes: number[] = [];
    for (const part of r.retryOn.split(',')) {
      const p = part.trim();
      if (!p) continue;
      if (/^\d+$/.test(p)) codes.push(Number(p));
      else policies.push(p);
    }
    if (codes.length > 0 && !policies.includes('retriable-status-codes'))
      policies.push('retriable-status-codes');
    out.retryOn = policies.join(',');
    if (codes.length > 0) out.retriableStatusCodes = codes;
  }
  const perTry = durationMs(r?.perTryTimeout);
  if (perTry !== undefined && perTry > 0) out.perTryTimeout = duration(perTry);
  const backoff = durationMs(r?.backoff);
  if (backoff !== undefined && backoff > 0) out.retryBackOff = { baseInterval: duration(backoff) };
  if (opts.hostPredicate && r?.retryIgnorePreviousHosts !== false && canSendPredicate()) {
    out.retryHostPredicate = previousHostsPredicate();
    out.hostSelectionRetryMaxAttempts = 5;
  }
  return out;
}
