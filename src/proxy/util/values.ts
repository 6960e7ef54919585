// Readers for canonical-form proto values (Duration, wrappers, FractionalPercent, Any) used at config time.
import { durationToMs, parseJsonDuration } from '../../xds/duration.js';

/**
 * Milliseconds of a canonical Duration (`{ seconds, nanos }`); also accepts proto3 JSON strings
 * ("1.5s") so hand-written configs work. `undefined`/`null` gives `dflt`.
 */
export function durationMs(d: unknown, dflt: number): number {
  if (d === undefined || d === null) return dflt;
  if (typeof d === 'string') {
    const parsed = parseJsonDuration(d);
    if (!parsed) throw new Error(`invalid duration "${d}"`);
    return durationToMs(parsed);
  }
  if (typeof d === 'number') return d * 1000;
  if (typeof d === 'object') return durationToMs(d);
  throw new Error(`invalid duration ${JSON.stringify(d)}`);
}

/** The value of a wrapper (`{ value }`) or a plain number; `dflt` when absent. */
export function u32(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'object' && 'value' in v) return Number((v as { value?: unknown }).value ?? 0);
  if (typeof v === 'object') return 0; // `{}`: a wrapper holding the default 0
  return dflt;
}

/** The value of a BoolValue wrapper or a plain boolean; `dflt` when absent. */
export function boolValue(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'object') return Boolean((v as { value?: unknown }).value ?? false);
  return dflt;
}

const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** A FractionalPercent (`{ numerator, denominator }`) as parts per million (0..1e6). Absent → `dflt`. */
export function fractionPerMillion(fp: unknown, dflt: number): number {
  if (fp === undefined || fp === null) return dflt;
  const o = fp as { numerator?: number; denominator?: string | number };
  const num = Number(o.numerator ?? 0);
  let den = 100;
  if (typeof o.denominator === 'string') den = DENOMINATORS[o.denominator] ?? 100;
  else if (typeof o.denominator === 'number') den = [100, 10_000, 1_000_000][o.denominator] ?? 100;
  return Math.min(1_000_000, Math.round((num * 1_000_000) / den));
}

/** The message name in an Any's '@type' (after the last '/'), or '' when absent. */
export function anyTypeName(any: unknown): string {
  if (!any || typeof any !== 'object') return '';
  const t = (any as Record<string, unknown>)['@type'];
  return typeof t === 'string' ? t.slice(t.lastIndexOf('/') + 1) : '';
}

/** A socket address from a canonical envoy.config.core.v3.Address, or null for pipes/unsupported. */
export function socketAddress(addr: unknown): { address: string; port: number } | null {
  const sa = (addr as { socketAddress?: { address?: string; portValue?: number } } | undefined)
    ?.socketAddress;
  if (!sa) return null;
  return { address: sa.address ?? '0.0.0.0', port: Number(sa.portValue ?? 0) };
}

/** Error raised while compiling a resource; names the resource and the field path. */
export class ConfigError extends Error {
  constructor(
    /** Resource name (listener, route configuration, cluster). */
    readonly resource: string,
    /** Field path inside the resource, e.g. `virtualHosts[0].routes[2].match.safeRegex.regex`. */
    readonly field: string,
    /** What is wrong. */
    readonly detail: string,
  ) {
    super(`${resource}: ${field ? `${field}: ` : ''}${detail}`);
  }
}
