// Compiled envoy.extensions.filters.http.fault.v3.HTTPFault (delay, abort, percentages, header matchers).
import { HeaderMatcher } from '../../../matchers/header-matcher.js';
import { durationMs, fractionPerMillion, u32 } from '../../../util/values.js';
import { GRPC_STATUS } from '../../../../api/grpc-status.js';
import type { envoy_extensions_filters_http_fault_v3_HTTPFault as HTTPFault } from '../../../../xds/envoy-types.js';

/** One fault configuration (filter-level or per route). */
export class FaultConfig {
  /** Fixed delay in ms, or -1 when the delay comes from the x-envoy-fault-delay-request header; 0 = no delay. */
  readonly delayMs: number;
  readonly delayPerMillion: number;
  /** HTTP status to abort with; 0 = no HTTP abort; -1 = from x-envoy-fault-abort-request header. */
  readonly abortStatus: number;
  /** gRPC status to abort with; -1 = none. */
  readonly abortGrpc: number;
  readonly abortPerMillion: number;
  readonly hasAbort: boolean;
  readonly headers: readonly HeaderMatcher[];
  /** Only inject when the route's cluster is this one ('' = any). */
  readonly upstreamCluster: string;
  /** Max concurrent active faults (Infinity when unset). */
  readonly maxActiveFaults: number;

  constructor(c: HTTPFault | undefined) {
    const d = c?.delay;
    this.delayMs = d ? (d.headerDelay ? -1 : durationMs(d.fixedDelay, 0)) : 0;
    this.delayPerMillion = d ? fractionPerMillion(d.percentage, 0) : 0;
    const a = c?.abort;
    this.abortStatus = a?.headerAbort ? -1 : Number(a?.httpStatus ?? 0);
    let g = -1;
    if (a?.grpcStatus !== undefined)
      g =
        typeof a.grpcStatus === 'string'
          ? (GRPC_STATUS[a.grpcStatus] ?? Number(a.grpcStatus))
          : Number(a.grpcStatus);
    this.abortGrpc = g;
    this.hasAbort = !!a && (this.abortStatus !== 0 || g >= 0);
    if (this.abortStatus > 0 && (this.abortStatus < 200 || this.abortStatus >= 600)) {
      throw new Error(`abort.httpStatus: ${this.abortStatus} is not in [200, 600)`);
    }
    this.abortPerMillion = a ? fractionPerMillion(a.percentage, 0) : 0;
    this.headers = (c?.headers ?? []).map((h) => new HeaderMatcher(h));
    this.upstreamCluster = String(c?.upstreamCluster ?? '');
    this.maxActiveFaults = c?.maxActiveFaults !== undefined ? u32(c.maxActiveFaults, Infinity) : Infinity;
  }
}

/** True with probability perMillion / 1e6. */
export function roll(perMillion: number): boolean {
  return perMillion >= 1_000_000 || (perMillion > 0 && Math.random() * 1_000_000 < perMillion);
}
