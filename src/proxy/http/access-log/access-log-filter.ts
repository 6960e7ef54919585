// Envoy AccessLogFilter (status_code_filter, and_filter, or_filter, response_flag_filter), compiled
// once into a predicate over the finished request.
import type { AccessLogContext } from './formatter.js';
import { Flag } from '../response-flags.js';
import type {
  envoy_config_accesslog_v3_AccessLogFilter as AccessLogFilter,
  envoy_config_accesslog_v3_ComparisonFilter as ComparisonFilter,
} from '../../../xds/envoy-types.js';

/** True when the request is logged. */
export type AccessLogPredicate = (c: AccessLogContext) => boolean;

function comparison(cmp: ComparisonFilter | undefined, path: string): AccessLogPredicate {
  const op = String(cmp?.op ?? 'EQ');
  const v = Number(cmp?.value?.defaultValue ?? 0);
  if (op === 'GE') return (c) => c.responseCode >= v;
  if (op === 'LE') return (c) => c.responseCode <= v;
  if (op === 'EQ') return (c) => c.responseCode === v;
  throw new Error(`${path}.statusCodeFilter.comparison.op: unknown ${op}`);
}

/** Compiles an AccessLogFilter; throws for filter types the proxy does not implement. */
export function compileAccessLogFilter(f: AccessLogFilter, path = 'filter'): AccessLogPredicate {
  if (f.statusCodeFilter) return comparison(f.statusCodeFilter.comparison, path);
  if (f.andFilter || f.orFilter) {
    const and = !!f.andFilter;
    const subs = ((and ? f.andFilter : f.orFilter)?.filters ?? []).map((x, i) =>
      compileAccessLogFilter(x, `${path}.${and ? 'andFilter' : 'orFilter'}.filters[${i}]`),
    );
    return and ? (c) => subs.every((s) => s(c)) : (c) => subs.some((s) => s(c));
  }
  if (f.responseFlagFilter) {
    const names = f.responseFlagFilter.flags ?? [];
    let mask = 0;
    for (const n of names) {
      const b = (Flag as Record<string, number>)[n];
      if (b === undefined) throw new Error(`${path}.responseFlagFilter.flags: unknown flag ${n}`);
      mask |= b;
    }
    return names.length === 0 ? (c) => c.responseFlags !== 0 : (c) => (c.responseFlags & mask) !== 0;
  }
  throw new Error(`${path}: only statusCodeFilter, responseFlagFilter, andFilter and orFilter are supported`);
}
