// Durations as Istio accepts them: protobuf JSON ("1.5s") and Go-style ("1m30s", "100ms").

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

/** Parses a duration string into milliseconds; undefined when it is not a duration. */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  if (s === '0') return 0;
  let i = 0;
  let total = 0;
  PART.lastIndex = 0;
  while (i < s.length) {
    PART.lastIndex = i;
    const m = PART.exec(s);
    if (!m) return undefined;
    total += parseFloat(m[1]) * UNIT_MS[m[2]];
    i = PART.lastIndex;
  }
  return total;
}

/** Milliseconds → `{ seconds, nanos }` as Envoy's google.protobuf.Duration. */
export function msToProtoDuration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return { seconds, nanos };
}
