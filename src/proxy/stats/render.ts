// Renders the stats store as Envoy's admin /stats text, JSON, and /stats/prometheus exposition.
import { DEFAULT_BUCKETS, type Counter, type Gauge, type Histogram, type StatsStore } from './stats-store.js';

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

function group<T extends { promName: string }>(items: Iterable<T>): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    let l = m.get(it.promName);
    if (!l) m.set(it.promName, (l = []));
    l.push(it);
  }
  return new Map([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Prometheus text exposition as Envoy renders it (`envoy_cluster_upstream_rq_total{envoy_cluster_name="x"} 3`). */
export function renderPrometheus(store: StatsStore, usedOnly = false): string {
  let out = '';
  const line = (name: string, labels: string, v: number): string =>
    `${name}${labels ? `{${labels}}` : ''} ${v}\n`;
  for (const [name, cs] of group([...store.counters.values()].filter((c) => !usedOnly || c.used))) {
    out += `# TYPE ${name} counter\n`;
    for (const c of cs) out += line(name, c.labels, c.value);
  }
  for (const [name, gs] of group([...store.gauges.values()].filter((g) => !usedOnly || g.used))) {
    out += `# TYPE ${name} gauge\n`;
    for (const g of gs) out += line(name, g.labels, g.value);
  }
  for (const [name, hs] of group(store.histograms.values())) {
    out += `# TYPE ${name} histogram\n`;
    for (const h of hs) {
      let cum = 0;
      const sep = h.labels ? `${h.labels},` : '';
      for (let i = 0; i < DEFAULT_BUCKETS.length; i++) {
        cum += h.counts[i];
        out += `${name}_bucket{${sep}le="${DEFAULT_BUCKETS[i]}"} ${cum}\n`;
      }
      cum += h.counts[DEFAULT_BUCKETS.length];
      out += `${name}_bucket{${sep}le="+Inf"} ${cum}\n`;
      out += line(`${name}_sum`, h.labels, h.sum);
      out += line(`${name}_count`, h.labels, h.count);
    }
  }
  return out;
}
