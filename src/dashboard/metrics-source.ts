// Where the graph's numbers come from: the proxies' own /stats/prometheus, scraped here every few
// seconds (the default), or a Prometheus that already scrapes them (`mizzen up --with-prometheus`).
import { readFileSync } from 'node:fs';
import { httpGet } from '../local/readiness.js';
import { GRAPH_METRICS, parseExposition } from './exposition.js';
import { increaseOver, retain, type Scrape, type SeriesIncrease, type WindowIncrease } from './increase.js';

/** Increases of Istio's series over a window. */
export interface MetricsSource {
  /** `scrape` or `prometheus`, for the UI. */
  readonly kind: string;
  window(windowS: number): Promise<WindowIncrease>;
  close(): void;
}

/** The proxies' stats endpoints (`http://ip:15020/stats/prometheus`, merged) in a file_sd targets.json. */
export function readTargetsFile(file: string): string[] {
  try {
    const groups = JSON.parse(readFileSync(file, 'utf8')) as {
      targets?: string[];
      labels?: Record<string, string>;
    }[];
    return groups
      .filter((g) => g.labels?.__metrics_path__ === '/stats/prometheus')
      .flatMap((g) => (g.targets ?? []).map((t) => `http://${t}/stats/prometheus`));
  } catch {
    return [];
  }
}

/** Longest window the UI offers (1 h), plus a coarse step of slack. */
const KEEP_MS = 3_600_000;

/** Scrapes every target each `intervalMs`, keeping an hour of history per target. */
export class ScrapeSource implements MetricsSource {
  readonly kind = 'scrape';
  private readonly history = new Map<string, Scrape[]>();
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly targets: () => string[],
    private readonly intervalMs = 2000,
  ) {
    this.timer = setInterval(() => void this.scrapeNow(), intervalMs);
    this.timer.unref();
    void this.scrapeNow();
  }

  /** One round over every target (a round still running is joined, not doubled). */
  scrapeNow(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    const urls = this.targets();
    const now = Date.now();
    await Promise.all(
      urls.map(async (url) => {
        const r = await httpGet(url, Math.max(1000, this.intervalMs));
        if (r.status !== 200) return;
        const samples = parseExposition(r.body, GRAPH_METRICS);
        const old = this.history.get(url) ?? [];
        this.history.set(url, retain([...old, { at: now, samples }], now, 6 * 60_000, 30_000, KEEP_MS));
      }),
    );
    for (const url of [...this.history.keys()]) if (!urls.includes(url)) this.history.delete(url);
  }

  async window(windowS: number): Promise<WindowIncrease> {
    return increaseOver(this.history.values(), windowS * 1000, Date.now());
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** PromQL over the window for one metric, all labels kept. */
const QUERIES = [
  'istio_requests_total',
  'istio_request_duration_milliseconds_bucket',
  'istio_tcp_connections_opened_total',
];

/** Asks a Prometheus (`host:port`) for `increase(…[window])` of Istio's series. */
export class PrometheusSource implements MetricsSource {
  readonly kind = 'prometheus';

  constructor(private readonly address: string) {}

  async window(windowS: number): Promise<WindowIncrease> {
    const series: SeriesIncrease[] = [];
    for (const name of QUERIES) {
      const q = encodeURIComponent(`increase(${name}[${windowS}s])`);
      const r = await httpGet(`http://${this.address}/api/v1/query?query=${q}`, 5000);
      if (r.status !== 200) continue;
      const body = JSON.parse(r.body) as {
        data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
      };
      for (const s of body.data?.result ?? []) {
        const increase = Number(s.value[1]);
        if (increase > 0) series.push({ name, labels: s.metric, increase });
      }
    }
    return { series, seconds: windowS };
  }

  close(): void {}
}
