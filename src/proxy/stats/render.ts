// Renders the stats store as Envoy's admin /stats text and JSON (Prometheus: see prometheus.ts).
import { type Counter, type Gauge, type Histogram, type StatsStore } from './stats-store.js';

/** Options of admin /stats. */
export interface StatsQuery {
  /** Only stats whose name matches this regex. */
  filter: RegExp | null;
  /** Only stats written at least once. */
  usedOnly: boolean;
}

function selected(s: Counter | Gauge, q: StatsQuery): boolean {
  return (!q.usedOnly || s.used) && (q.filter === null || q.filter.test(s.name));
}

/** Envoy's `/stats` text: `name: value` lines sorted by name, histograms last. */
export function renderText(store: StatsStore, q: StatsQuery): string {
  const rows: Array<[string, number]> = [];
  for (const c of store.counters.values()) if (selected(c, q)) rows.push([c.name, c.value]);
  for (const g of store.gauges.values()) if (selected(g, q)) rows.push([g.name, g.value]);
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let out = '';
  for (const [n, v] of rows) out += `${n}: ${v}\n`;
  const hs = [...store.histograms.values()]
    .filter((h) => q.filter === null || q.filter.test(h.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const h of hs) out += `${h.name}: ${histogramSummary(h)}\n`;
  return out;
}

function histogramSummary(h: Histogram): string {
  if (h.count === 0) return 'No recorded values';
  return `count(${h.count}) sum(${h.sum.toFixed(1)})`;
}

/** Envoy's `/stats?format=json`: `{ stats: [{ name, value }] }`. */
export function renderJson(store: StatsStore, q: StatsQuery): string {
  const stats: Array<{ name: string; value: number }> = [];
  for (const c of store.counters.values()) if (selected(c, q)) stats.push({ name: c.name, value: c.value });
  for (const g of store.gauges.values()) if (selected(g, q)) stats.push({ name: g.name, value: g.value });
  stats.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify({ stats }, null, 2);
}
