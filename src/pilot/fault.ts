// VirtualService fault → the per-route config of envoy.filters.http.fault (HTTPFault).
import { GRPC_STATUS } from '../api/grpc-status.js';
import type { HTTPFaultInjection } from '../api/kinds/networking/virtual-service.js';
import type {
  AnyMessageOf,
  envoy_extensions_filters_http_fault_v3_HTTPFault as HTTPFault,
} from '../xds/envoy-types.js';
import { anyOf, durationMs, duration, fractionalPercent, TYPES } from './envoy.js';

/** The fault percentage: `percentage.value`, else the deprecated integer `percent`; no value = no fault. */
function percentOf(p: { percentage?: { value: number }; percent?: number }): number | undefined {
  if (p.percentage) return p.percentage.value;
  return p.percent;
}

/** The HTTPFault for a route (its typed_per_filter_config Any); null when neither delay nor abort would ever fire. */
export function translateFault(f: HTTPFaultInjection | undefined): AnyMessageOf | null {
  if (!f) return null;
  const out: HTTPFault = {};
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
  return out.delay || out.abort ? anyOf(TYPES.FAULT, out) : null;
}
