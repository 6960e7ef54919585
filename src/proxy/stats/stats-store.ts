// Counters, gauges and histograms named as Envoy names them, with the tags Envoy's Prometheus output extracts.

/** Label pairs in Prometheus order, e.g. [['envoy_cluster_name', 'outbound|9080||reviews']]. */
export type Tags = ReadonlyArray<readonly [string, string]>;

/** Common identity of a stat: its Envoy name and its Prometheus name + rendered labels. */
abstract class Stat {
  /** Prometheus labels rendered once (`envoy_cluster_name="x",...`), '' when none. */
  readonly labels: string;
  constructor(
    /** Envoy's dotted name, e.g. `cluster.outbound|9080||reviews.upstream_rq_total`. */
    readonly name: string,
    /** Prometheus metric name, e.g. `envoy_cluster_upstream_rq_total`. */
    readonly promName: string,
    tags: Tags,
    /** Labels already rendered (a merged copy of another process's stat); `tags` is ignored then. */
    labels?: string,
  ) {
    this.labels = labels ?? renderLabels(tags);
  }
}

/** A monotonically increasing count. */
export class Counter extends Stat {
  value = 0;
  /** True once the counter was ever written (Envoy's `usedonly`). */
  used = false;
  inc(): void {
    this.value++;
    this.used = true;
  }
  add(n: number): void {
    this.value += n;
    this.used = true;
  }
}

/** A value that goes up and down (active connections, membership). */
export class Gauge extends Stat {
  value = 0;
  used = false;
  inc(): void {
    this.value++;
    this.used = true;
  }
  dec(): void {
    this.value--;
  }
  set(v: number): void {
    this.value = v;
    this.used = true;
  }
}

/** Envoy's default histogram bucket bounds (milliseconds for time histograms). */
export const DEFAULT_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** A cumulative histogram with Envoy's default buckets. */
export class Histogram extends Stat {
  /** Per-bucket (non-cumulative) counts; last slot is +Inf. */
  readonly counts = new Float64Array(DEFAULT_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  record(v: number): void {
    let i = 0;
    while (i < DEFAULT_BUCKETS.length && v > DEFAULT_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Rendered labels per tag list: a scope hands every stat the same list, so its ~50 stats (a cluster's)
 * share one string instead of each holding its own copy (3000 clusters: 150 000 copies).
 */
const RENDERED = new WeakMap<Tags, string>();

function renderLabels(tags: Tags): string {
  if (tags.length === 0) return '';
  let r = RENDERED.get(tags);
  if (r === undefined) {
    r = tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    RENDERED.set(tags, r);
  }
  return r;
}

/** Prometheus names by base: the same few hundred bases recur for every cluster and listener. */
const PROM_NAMES = new Map<string, string>();
/** Bases with a name in them (no tag extracted) are not all worth keeping. */
const PROM_NAMES_MAX = 20_000;

/** Envoy's Prometheus name sanitizing: `envoy_` + name with every non [a-zA-Z0-9_] char as '_'. */
export function promMetricName(base: string): string {
  let n = PROM_NAMES.get(base);
  if (n === undefined) {
    n = 'envoy_' + base.replace(/[^a-zA-Z0-9_]/g, '_');
    if (PROM_NAMES.size < PROM_NAMES_MAX) PROM_NAMES.set(base, n);
  }
  return n;
}

/** All stats of one proxy. Stats are created once (config time) and updated by reference on the hot path. */
export class StatsStore {
  readonly counters = new Map<string, Counter>();
  readonly gauges = new Map<string, Gauge>();
  readonly histograms = new Map<string, Histogram>();

  /** A counter whose Prometheus name is used as is (Istio's `istio_*` metrics), not `envoy_`-prefixed. */
  namedCounter(name: string, promName: string, tags: Tags): Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new Counter(name, promName, tags)));
    return c;
  }

  /** A histogram whose Prometheus name is used as is (Istio's `istio_*` metrics). */
  namedHistogram(name: string, promName: string, tags: Tags): Histogram {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram(name, promName, tags)));
    return h;
  }

  /** A scope: stats named `prefix + suffix`, Prometheus name `promPrefix + suffix`, with `tags`. */
  scope(prefix: string, promPrefix: string, tags: Tags = []): Scope {
    return new Scope(this, prefix, promPrefix, tags);
  }

  counter(name: string, promBase: string, tags: Tags): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter(name, promMetricName(promBase), tags);
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string, promBase: string, tags: Tags): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge(name, promMetricName(promBase), tags);
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(name: string, promBase: string, tags: Tags): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram(name, promMetricName(promBase), tags);
      this.histograms.set(name, h);
    }
    return h;
  }

  /** Sets every counter back to zero (admin /reset_counters). */
  resetCounters(): void {
    for (const c of this.counters.values()) c.value = 0;
  }
}

/** A naming scope (Envoy's stats scope) with its Prometheus tags. */
export class Scope {
  constructor(
    readonly store: StatsStore,
    /** Envoy name prefix, ending in '.', e.g. `cluster.foo.`. */
    readonly prefix: string,
    /** Prometheus base prefix, e.g. `cluster.`. */
    readonly promPrefix: string,
    readonly tags: Tags,
  ) {}

  counter(suffix: string): Counter {
    return this.store.counter(this.prefix + suffix, this.promPrefix + suffix, this.tags);
  }
  gauge(suffix: string): Gauge {
    return this.store.gauge(this.prefix + suffix, this.promPrefix + suffix, this.tags);
  }
  histogram(suffix: string): Histogram {
    return this.store.histogram(this.prefix + suffix, this.promPrefix + suffix, this.tags);
  }
  /** A counter whose name carries an extra tag, e.g. `upstream_rq_200` → `upstream_rq{envoy_response_code="200"}`. */
  taggedCounter(suffix: string, promSuffix: string, tag: readonly [string, string]): Counter {
    return this.store.counter(this.prefix + suffix, this.promPrefix + promSuffix, [tag, ...this.tags]);
  }
}

/**
 * Per-status-code counters of one scope, created lazily once per distinct code:
 * `<base>_<code>` (e.g. upstream_rq_200) and `<base>_<class>xx` (e.g. upstream_rq_2xx).
 */
export class ResponseCodeStats {
  private readonly byCode = new Map<number, Counter>();
  private readonly byClass: Counter[];
  constructor(
    private readonly scope: Scope,
    private readonly base: string,
    /** Also keep `<base>_<code>` counters (clusters do; HCMs only keep classes). */
    private readonly perCode = true,
  ) {
    this.byClass = [1, 2, 3, 4, 5].map((c) =>
      scope.taggedCounter(`${base}_${c}xx`, `${base}_xx`, ['envoy_response_code_class', String(c)]),
    );
  }
  /** Counts one response with this status. */
  record(status: number): void {
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) this.byClass[cls - 1].inc();
    if (!this.perCode) return;
    let c = this.byCode.get(status);
    if (!c) {
      c = this.scope.taggedCounter(`${this.base}_${status}`, this.base, [
        'envoy_response_code',
        String(status),
      ]);
      this.byCode.set(status, c);
    }
    c.inc();
  }
}
