// Envoy's retry decisions: which upstream outcomes a RetryPolicy retries.
import { matchAllHeaders, type HeaderSource } from '../../../matchers/header-matcher.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { grpcRetryBit, RetryOn, type RetryPolicy } from '../../route/retry-policy.js';

/** How an attempt failed before a response arrived. */
export const enum ResetKind {
  ConnectFailure = 0,
  ConnectionTermination = 1,
  RemoteReset = 2,
  RefusedStream = 3,
  ProtocolError = 4,
  PerTryTimeout = 5,
}

const ANY_RESET = RetryOn.X5XX | RetryOn.GATEWAY_ERROR | RetryOn.RESET;

/** True when `policy` retries an attempt that failed with `kind`. */
export function retriesReset(policy: RetryPolicy, kind: ResetKind): boolean {
  const r = policy.retryOn;
  if (r & ANY_RESET) return true;
  if (kind === ResetKind.ConnectFailure)
    return (r & (RetryOn.CONNECT_FAILURE | RetryOn.RESET_BEFORE_REQUEST)) !== 0;
  if (kind === ResetKind.RefusedStream) return (r & RetryOn.REFUSED_STREAM) !== 0;
  return false;
}

class ResponseHeaders implements HeaderSource {
  constructor(
    readonly headers: HeaderMap,
    private readonly status: number,
  ) {}
  pseudo(name: string): string | undefined {
    return name === ':status' ? String(this.status) : undefined;
  }
}

/** True when `policy` retries this upstream response (status/headers; gRPC trailers-only status). */
export function retriesResponse(policy: RetryPolicy, status: number, headers: HeaderMap): boolean {
  // An overloaded upstream Envoy asks not to be retried.
  if (headers['x-envoy-overloaded'] !== undefined) return false;
  const r = policy.retryOn;
  if (r & RetryOn.X5XX && status >= 500) return true;
  if (r & RetryOn.GATEWAY_ERROR && status >= 502 && status <= 504) return true;
  if (r & RetryOn.RETRIABLE_4XX && status === 409) return true;
  if (r & RetryOn.RETRIABLE_STATUS_CODES && policy.retriableStatusCodes.includes(status)) return true;
  if (r & RetryOn.ENVOY_RATELIMITED && headers['x-envoy-ratelimited'] !== undefined) return true;
  if (r & RetryOn.RETRIABLE_HEADERS && policy.retriableHeaders.length > 0) {
    const src = new ResponseHeaders(headers, status);
    for (const m of policy.retriableHeaders) if (matchAllHeaders([m], src)) return true;
  }
  const gs = headers['grpc-status'];
  if (gs !== undefined && r & 0x1f00) {
    const bit = grpcRetryBit(Number(gs));
    if (bit !== 0 && (r & bit) !== 0) return true;
  }
  return false;
}
