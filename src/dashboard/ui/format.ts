// Number formatting shared by the views.

/** Requests per second, 2 significant digits under 10. */
export function rate(rps: number): string {
  if (rps === 0) return '0';
  return rps < 10 ? rps.toPrecision(2) : rps.toFixed(0);
}

/** 0..1 as a percentage with one decimal. */
export function pct(x: number): string {
  return `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)}%`;
}

/** Milliseconds, or – when unknown. */
export function ms(v: number | null): string {
  if (v === null) return '–';
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}
