// The application half of Istio's merged metrics: which endpoint of the app to scrape (pilot-agent reads
// the pod's original prometheus.io annotations from ISTIO_PROMETHEUS_ANNOTATIONS, which the injector
// wrote), and one bounded scrape of it that hands back the response stream for the merged answer.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/** Istio's environment variable carrying the pod's prometheus.io annotations as JSON. */
export const PROMETHEUS_ANNOTATIONS_ENV = 'ISTIO_PROMETHEUS_ANNOTATIONS';

/** Where the app serves its metrics. */
export interface AppMetricsTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

/**
 * The app endpoint from ISTIO_PROMETHEUS_ANNOTATIONS (`{"scrape","path","port"}`, as pilot-agent reads
 * it): null when unset or `scrape` is "false"; path defaults to /metrics and port to 80 as Istio's.
 * Throws on invalid JSON or a port equal to `mergedPort` (the agent would scrape itself).
 */
export function appMetricsTarget(
  json: string | undefined,
  host: string,
  mergedPort: number,
): AppMetricsTarget | null {
  if (json === undefined || json === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`${PROMETHEUS_ANNOTATIONS_ENV} is not JSON: ${(e as Error).message}`);
  }
  const o = (v !== null && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  if (o.scrape === 'false') return null;
  const port = Number(o.port === undefined || o.port === '' ? 80 : o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${PROMETHEUS_ANNOTATIONS_ENV}: port must be 1-65535, got ${String(o.port)}`);
  if (port === mergedPort)
    throw new Error(
      `${PROMETHEUS_ANNOTATIONS_ENV}: the application port is the merged metrics port ${port}; the proxy would scrape itself`,
    );
  const path = typeof o.path === 'string' && o.path !== '' ? o.path : '/metrics';
  return { host, port, path: path.startsWith('/') ? path : `/${path}` };
}

/** Headers a Prometheus scrape passes on to the app, as pilot-agent does. */
const PASSED = ['accept', 'user-agent', 'x-prometheus-scrape-timeout-seconds'] as const;

/** A scrape's deadline: Prometheus's X-Prometheus-Scrape-Timeout-Seconds, else `fallbackMs`. */
export function scrapeTimeoutMs(h: IncomingHttpHeaders, fallbackMs: number): number {
  const s = Number(h['x-prometheus-scrape-timeout-seconds']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : fallbackMs;
}

/**
 * GETs the app's metrics; resolves with the 200 response (its body not yet read) or null on any error,
 * non-200 status or the deadline (the body is destroyed at the deadline too). Never rejects.
 */
export function scrapeApp(
  t: AppMetricsTarget,
  from: IncomingHttpHeaders,
  timeoutMs: number,
): Promise<IncomingMessage | null> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    for (const k of PASSED) {
      const v = from[k];
      if (typeof v === 'string') headers[k] = v;
    }
    let settled = false;
    const done = (r: IncomingMessage | null): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = request({ host: t.host, port: t.port, path: t.path, headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        done(null);
        return;
      }
      done(res);
    });
    const timer = setTimeout(() => req.destroy(new Error('scrape timeout')), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', () => done(null));
    req.end();
  });
}
