// VirtualService fault → the per-route config of envoy.filters.http.fault (HTTPFault).
import { GRPC_STATUS } from '../api/grpc-status.js';
import type { HTTPFaultInjection } from '../api/kinds/networking/virtual-service.js';
import { durationMs, duration, fractionalPercent, TYPES, type Envoy } from './envoy.js';

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
        const code = GRPC_STATUS[a.grpcStatus.toUpperCase()] ?? Number(a.grpcStatus);
        out.abort = { grpcStatus: Number.isFinite(code) ? code : 2, percentage: fractionalPercent(pct) };
      } else if (a.httpStatus !== undefined) {
        out.abort = { httpStatus: a.httpStatus, percentage: fractionalPercent(pct) };
      }
    }
  }
  return out.delay || out.abort ? out : null;
}
