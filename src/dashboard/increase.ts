// Counter increases over a time window from a series of scrapes, as Prometheus' increase() counts them:
// the sum of the rises between consecutive scrapes, a drop meaning the counter restarted from zero.
import type { Sample } from './exposition.js';

/** One scrape of one target: when (ms since epoch) and its samples. */
export interface Scrape {
  readonly at: number;
  readonly samples: readonly Sample[];
}

/** How much one series (name + labels, summed over targets) rose in the window. */
export interface SeriesIncrease {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly increase: number;
}

/** Increases over a window and the seconds of it the scrapes actually cover (rate = increase / seconds). */
export interface WindowIncrease {
  readonly series: SeriesIncrease[];
  readonly seconds: number;
}

/** `name{a="1",b="2"}` with labels sorted: one key per series. */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

function valuesOf(s: Scrape): Map<string, Sample> {
  const m = new Map<string, Sample>();
  for (const x of s.samples) m.set(seriesKey(x.name, x.labels), x);
  return m;
}

/**
 * Increases over `[now - windowMs, now]` from each target's scrapes (oldest first). The scrape at or
 * just before the window start is the baseline; a series absent from it starts at 0 (Istio creates a
 * series at its first request). Targets with fewer than two scrapes in reach add nothing.
 */
export function increaseOver(
  targets: Iterable<readonly Scrape[]>,
  windowMs: number,
  now: number,
): WindowIncrease {
  const sums = new Map<string, { name: string; labels: Record<string, string>; increase: number }>();
  let earliest = now;
  for (const scrapes of targets) {
    let start = 0;
    for (let i = 0; i < scrapes.length; i++) if (scrapes[i].at <= now - windowMs) start = i;
    const span = scrapes.slice(start);
    if (span.length < 2) continue;
    earliest = Math.min(earliest, span[0].at);
    let prev = valuesOf(span[0]);
    for (let i = 1; i < span.length; i++) {
      const cur = valuesOf(span[i]);
      for (const [key, s] of cur) {
        const before = prev.get(key)?.value ?? 0;
        const rise = s.value >= before ? s.value - before : s.value;
        if (rise === 0) continue;
        let acc = sums.get(key);
        if (!acc) sums.set(key, (acc = { name: s.name, labels: { ...s.labels }, increase: 0 }));
        acc.increase += rise;
      }
      prev = cur;
    }
  }
  return { series: [...sums.values()], seconds: Math.min(windowMs, now - earliest) / 1000 };
}

/**
 * Which scrapes to keep: all of the last `fineMs`, then one per `coarseMs` step up to `keepMs` back
 * (an hour of 2 s scrapes would otherwise be 1800 copies of every series).
 */
export function retain(
  scrapes: readonly Scrape[],
  now: number,
  fineMs: number,
  coarseMs: number,
  keepMs: number,
): Scrape[] {
  const out: Scrape[] = [];
  let lastStep = -1;
  for (const s of scrapes) {
    const age = now - s.at;
    if (age > keepMs + coarseMs) continue;
    if (age <= fineMs) {
      out.push(s);
      continue;
    }
    const step = Math.floor(s.at / coarseMs);
    if (step !== lastStep) out.push(s);
    lastStep = step;
  }
  return out;
}
