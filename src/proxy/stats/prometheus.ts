// Prometheus text exposition of a stats store through prom-client (the encoder the control plane uses
// too): the store's counters, gauges and histograms become prom-client metric objects at scrape time.
import { Registry } from 'prom-client';
import { DEFAULT_BUCKETS, type Counter, type Gauge, type Histogram, type StatsStore } from './stats-store.js';

/** Content type of the text exposition. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** One metric family in prom-client's collector shape (`get()` answers name, type and values). */
class Family {
  readonly values: Value[] = [];
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly help: string,
  ) {}
  get(): { name: string; help: string; type: string; values: Value[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values, aggregator: 'sum' };
  }
  reset(): void {}
}

/** Parses rendered labels (`a="x",b="y\"z"`) back into an object (scrape time only). */
export function parseLabels(s: string): Labels {
  const out: Labels = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('="', i);
    if (eq < 0) break;
    const key = s.slice(i, eq);
    let j = eq + 2;
    let v = '';
    while (j < s.length && s[j] !== '"') {
      if (s[j] === '\\' && j + 1 < s.length) {
        const n = s[j + 1];
        v += n === 'n' ? '\n' : n;
        j += 2;
      } else v += s[j++];
    }
    out[key] = v;
    i = j + 2; // past `",`
  }
  return out;
}

function family(reg: Map<string, Family>, name: string, type: 'counter' | 'gauge' | 'histogram'): Family {
  let f = reg.get(name);
  if (!f) reg.set(name, (f = new Family(name, type, name)));
  return f;
}

/** The exposition of a store, families sorted by name (Envoy's `/stats/prometheus`). */
export async function renderPrometheus(store: StatsStore, usedOnly = false): Promise<string> {
  const fams = new Map<string, Family>();
  const scalar = (s: Counter | Gauge, type: 'counter' | 'gauge'): void => {
    if (usedOnly && !s.used) return;
    family(fams, s.promName, type).values.push({ value: s.value, labels: parseLabels(s.labels) });
  };
  for (const c of store.counters.values()) scalar(c, 'counter');
  for (const g of store.gauges.values()) scalar(g, 'gauge');
  for (const h of store.histograms.values()) histogramValues(family(fams, h.promName, 'histogram'), h);
  const reg = new Registry();
  for (const name of [...fams.keys()].sort()) reg.registerMetric(fams.get(name)! as never);
  return reg.metrics();
}

function histogramValues(f: Family, h: Histogram): void {
  const labels = parseLabels(h.labels);
  let cum = 0;
  for (let i = 0; i < DEFAULT_BUCKETS.length; i++) {
    cum += h.counts[i];
    f.values.push({
      value: cum,
      labels: { ...labels, le: DEFAULT_BUCKETS[i] },
      metricName: `${f.name}_bucket`,
    });
  }
  cum += h.counts[DEFAULT_BUCKETS.length];
  f.values.push({ value: cum, labels: { ...labels, le: '+Inf' }, metricName: `${f.name}_bucket` });
  f.values.push({ value: h.sum, labels, metricName: `${f.name}_sum` });
  f.values.push({ value: h.count, labels, metricName: `${f.name}_count` });
}
