// Stats across `--concurrency` workers: a plain snapshot of one worker's store (sent over IPC) and the
// merge of many snapshots into one store that the admin renderers read, the way Envoy's central store
// adds up what its worker threads counted.
import { Counter, Gauge, Histogram, StatsStore, DEFAULT_BUCKETS } from './stats-store.js';

/** A counter or gauge as sent between processes: [name, promName, labels, value, used (1/0)]. */
export type ScalarEntry = [string, string, string, number, number];
/** A histogram as sent: [name, promName, labels, per-bucket counts (last = +Inf), sum, count]. */
export type HistogramEntry = [string, string, string, number[], number, number];

/** Every stat of one store, as plain JSON-safe arrays. */
export interface StatsSnapshot {
  counters: ScalarEntry[];
  gauges: ScalarEntry[];
  histograms: HistogramEntry[];
}

/** Copies a store into a snapshot (admin time only, never on the request path). */
export function snapshotStats(store: StatsStore): StatsSnapshot {
  const scalar = (s: Counter | Gauge): ScalarEntry => [s.name, s.promName, s.labels, s.value, s.used ? 1 : 0];
  return {
    counters: [...store.counters.values()].map(scalar),
    gauges: [...store.gauges.values()].map(scalar),
    histograms: [...store.histograms.values()].map((h) => [
      h.name,
      h.promName,
      h.labels,
      Array.from(h.counts),
      h.sum,
      h.count,
    ]),
  };
}

// Stats that describe the proxy's configuration, not its traffic. Every worker applies the same config,
// so each holds the same value; Envoy keeps one copy of them (main thread), so the merge takes one
// worker's value (the largest, so a worker that just restarted and is still catching up does not
// pull it down) instead of multiplying it by the worker count.
const CONFIG_PREFIXES = ['server.', 'cluster_manager.', 'listener_manager.', 'sds.'];
const CONFIG_SUFFIXES = [
  '.membership_total',
  '.membership_healthy',
  '.membership_change',
  '.update_success',
  '.update_rejected',
  // Flags and per-worker views of shared state: "open" when any worker's breaker is open; ejected
  // hosts as one worker's outlier detector sees them (adding them up would count a host twice).
  '_open',
  '.ejections_active',
];

/** True when a stat is merged by taking one worker's value rather than the sum. */
export function mergedByMax(name: string): boolean {
  for (const p of CONFIG_PREFIXES) if (name.startsWith(p)) return true;
  for (const s of CONFIG_SUFFIXES) if (name.endsWith(s)) return true;
  return false;
}

/**
 * Merges worker snapshots into one store: counters, traffic gauges (active connections and requests)
 * and histograms are summed; configuration stats take the maximum (see {@link mergedByMax}).
 */
export function mergeSnapshots(snaps: readonly StatsSnapshot[]): StatsStore {
  const out = new StatsStore();
  for (const snap of snaps) {
    for (const e of snap.counters) mergeScalar(out.counters, e, (n, p, l) => new Counter(n, p, [], l));
    for (const e of snap.gauges) mergeScalar(out.gauges, e, (n, p, l) => new Gauge(n, p, [], l));
    for (const e of snap.histograms) mergeHistogram(out.histograms, e);
  }
  return out;
}

function mergeScalar<T extends Counter | Gauge>(
  into: Map<string, T>,
  [name, promName, labels, value, used]: ScalarEntry,
  make: (name: string, promName: string, labels: string) => T,
): void {
  let s = into.get(name);
  if (!s) {
    s = make(name, promName, labels);
    into.set(name, s);
    s.value = value;
  } else if (mergedByMax(name)) s.value = Math.max(s.value, value);
  else s.value += value;
  if (used) s.used = true;
}

function mergeHistogram(
  into: Map<string, Histogram>,
  [name, promName, labels, counts, sum, count]: HistogramEntry,
): void {
  let h = into.get(name);
  if (!h) {
    h = new Histogram(name, promName, [], labels);
    into.set(name, h);
  }
  const n = Math.min(counts.length, DEFAULT_BUCKETS.length + 1);
  for (let i = 0; i < n; i++) h.counts[i] += counts[i];
  h.sum += sum;
  h.count += count;
}

/**
 * What a worker that exited had counted by its last snapshot: counters and histograms that are summed
 * (gauges and configuration stats die with the worker). Keeping them makes merged totals monotonic
 * across a worker restart, as scrapers of a counter expect.
 */
export function retiredPart(snap: StatsSnapshot): StatsSnapshot {
  return {
    counters: snap.counters.filter((e) => !mergedByMax(e[0])),
    gauges: [],
    histograms: snap.histograms,
  };
}

/** Zeroes the counters of a snapshot in place (admin /reset_counters also clears retired workers' counts). */
export function resetSnapshotCounters(snap: StatsSnapshot): void {
  for (const c of snap.counters) c[3] = 0;
}
