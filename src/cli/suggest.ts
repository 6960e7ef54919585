// "Did you mean" for mistyped commands and flags, as kubectl (cobra) suggests them.

/** Edit distance (insert, delete, substitute), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidates close to `typed`: within edit distance 2 (cobra's default minimum distance) or
 * starting with it; nearest first.
 */
export function suggestions(typed: string, candidates: readonly string[]): string[] {
  if (!typed) return [];
  const lower = typed.toLowerCase();
  return candidates
    .map((c) => ({ c, d: c.toLowerCase().startsWith(lower) ? 0 : distance(typed, c) }))
    .filter((x) => x.d <= 2)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .map((x) => x.c);
}

/** `format` with %s replaced by the suggestions joined by " or ", or '' when there are none. */
export function suggestionLine(typed: string, candidates: readonly string[], format: string): string {
  const s = suggestions(typed, candidates);
  return s.length ? format.replace('%s', s.join(' or ')) : '';
}
