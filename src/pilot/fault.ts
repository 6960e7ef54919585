// VirtualService fault → the per-route config of envoy.filters.http.fault (HTTPFault).
import type { HTTPFaultInjection } from '../api/kinds/networking/virtual-service.js';
import { durationMs, duration, fractionalPercent, TYPES, type Envoy } from './envoy.js';

/** gRPC status code names → numbers. */
const GRPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** The fault percentage: `percentage.value`, else the deprecated integer `percent`; no value = no fault. */
function percentOf(p: { percentage?: { value: number }; percent?: number }): number | undefined {
  if (p.percentage) return p.percentage.value;
  return p.percent;
}

/** The HTTPFault for a route; null when neither delay nor abort would ever fire. */
export function translateFault(f: HTTPFaultInjection | undefined): Envoy | null {
  if (!f) return null;
  const out: Envoy = { '@type': TYPES.FAULT };
  const d = f.delay;
  if (d) {
    const pct = percentOf(d);
    const ms = durationMs(d.fixedDelay ?? d.exponentialDelay);
    if (pct !== undefined && ms !== undefined)
      out.delay = { fixedDelay: duration(ms), percentage: fractionalPercent(pct) };
  }
  const a = f.abort;
  if (a) {
    const pct = a.percentage?.value;
    if (pct !== undefined) {
      if (a.grpcStatus !== undefined) {
        const code = GRPC_CODES[a.grpcStatus.toUpperCase()] ?? Number(a.grpcStatus);
        out.abort = { grpcStatus: Number.isFinite(code) ? code : 2, percentage: fractionalPercent(pct) };
      } else if (a.httpStatus !== undefined) {
        out.abort = { httpStatus: a.httpStatus, percentage: fractionalPercent(pct) };
      }
    }
  }
  return out.delay || out.abort ? out : null;
}
