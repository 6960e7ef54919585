// Istio durations: protobuf JSON ("1.5s") and Go-style ("1m30s", "100ms"), parsed once (at validation) and
// remembered. Envoy's google.protobuf.Duration is src/xds/duration.ts.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parsed durations by their text. Validation parses every duration of the config when it loads;
 * translation (per push, per proxy) then reads this instead of parsing again.
 */
const parsed = new Map<string, number | undefined>();
/** Bound on the memo: config edits over a long run must not grow it without limit. */
const MAX_MEMO = 10_000;

/** Parses a duration string into milliseconds; undefined when it is not a duration. */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  const known = parsed.get(s);
  if (known !== undefined || parsed.has(s)) return known;
  const ms = parseText(s);
  if (parsed.size >= MAX_MEMO) parsed.clear();
  parsed.set(s, ms);
  return ms;
}

function parseText(s: string): number | undefined {
  if (s === '0') return 0;
  let i = 0;
  let total = 0;
  while (i < s.length) {
    PART.lastIndex = i;
    const m = PART.exec(s);
    if (!m) return undefined;
    total += parseFloat(m[1]) * UNIT_MS[m[2]];
    i = PART.lastIndex;
  }
  return total;
}
