// Istio's metrics out of a proxy's /stats/prometheus text: flat samples, histograms as their `_bucket`
// (with `le`), `_sum` and `_count` lines, as Prometheus stores them. Written here because the npm parser
// (parse-prometheus-text-format 1.1) merges every labelled series of a histogram into one.

/** One sample: a metric name, its labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The sample names the dashboard's graph reads. */
export const GRAPH_METRICS: ReadonlySet<string> = new Set([
  'istio_requests_total',
  'istio_request_duration_milliseconds_bucket',
  'istio_tcp_connections_opened_total',
  'istio_tcp_sent_bytes_total',
  'istio_tcp_received_bytes_total',
]);

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** One sample line; null when the line is not one. */
export function parseSampleLine(line: string): Sample | null {
  const name = NAME.exec(line)?.[0];
  if (!name) return null;
  const labels: Record<string, string> = {};
  let i = name.length;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') break;
      LABEL.lastIndex = i;
      const m = LABEL.exec(line);
      if (!m) return null;
      labels[m[1]] = unescape(m[2]);
      i = LABEL.lastIndex;
    }
    i++;
  }
  const fields = line.slice(i).trim().split(/\s+/);
  if (fields.length < 1 || fields[0] === '') return null;
  const value = fields[0] === '+Inf' ? Infinity : fields[0] === '-Inf' ? -Infinity : Number(fields[0]);
  return Number.isNaN(value) && fields[0] !== 'NaN' ? null : { name, labels, value };
}

/** The samples named in `keep` (all when null); malformed lines are skipped. */
export function parseExposition(text: string, keep: ReadonlySet<string> | null = GRAPH_METRICS): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (keep) {
      const name = NAME.exec(line)?.[0];
      if (!name || !keep.has(name)) continue;
    }
    const s = parseSampleLine(line);
    if (s) out.push(s);
  }
  return out;
}
