// Istio's Prometheus metrics merging for `mizzen up`'s pods, as the sidecar injector applies it: a pod
// with a sidecar whose prometheus.io/scrape is not false is scraped at the sidecar's merged endpoint
// (:15020/stats/prometheus) and its own prometheus.io annotations go to the sidecar as
// ISTIO_PROMETHEUS_ANNOTATIONS, so the agent adds the app's metrics. Other pods' apps are scraped where
// their annotations say, as Prometheus's kubernetes-pods job does; a pod that turns merging off keeps
// its sidecar's :15090 target (Istio's documented envoy-stats job).

import { parse } from 'yaml';
import { STATS_PORT, type ScrapeTarget } from './prometheus.js';

/** pilot-agent's status port, where the merged metrics are served. */
export const MERGED_STATS_PORT = 15020;

/** Istio's per-pod switch for merging; when absent, MeshConfig enablePrometheusMerge decides (default true). */
export const MERGE_METRICS_ANNOTATION = 'prometheus.istio.io/merge-metrics';

/** How Prometheus should scrape one pod. */
export interface PodScrapePlan {
  /**
   * The sidecar's endpoint to scrape: `merged` (MERGED_STATS_PORT), `envoy` (15090, Istio's envoy-stats
   * job for pods that turn merging off), or null (no sidecar, or prometheus.io/scrape: "false").
   */
  readonly proxy: 'merged' | 'envoy' | null;
  /** The sidecar's ISTIO_PROMETHEUS_ANNOTATIONS value, or null for none. */
  readonly annotationsEnv: string | null;
  /** Scrape the app itself at this port and path (merging off and prometheus.io/scrape true), or null. */
  readonly app: { readonly port: number; readonly path: string } | null;
}

/** Prometheus's label-name sanitising: `prometheus.io/scrape` and `prometheus-io/scrape` are one key. */
const sanitize = (k: string): string => k.replace(/[^a-zA-Z0-9_]/g, '_');

/** Go's strconv.ParseBool; undefined when the value is not a boolean. */
function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** The value of a prometheus.io annotation in any spelling Prometheus treats alike. */
function promAnnotation(
  a: Readonly<Record<string, string>>,
  name: 'scrape' | 'port' | 'path',
): string | undefined {
  const want = `prometheus_io_${name}`;
  for (const [k, v] of Object.entries(a)) if (sanitize(k) === want) return v;
  return undefined;
}

/**
 * MeshConfig `enablePrometheusMerge` from the `mesh` text of ConfigMap istio-system/istio: Istio's
 * default (true) when absent or unreadable; only the boolean false turns merging off.
 */
export function meshPrometheusMerge(meshText: string | undefined): boolean {
  if (typeof meshText !== 'string') return true;
  try {
    const mesh = parse(meshText) as unknown;
    return !(
      typeof mesh === 'object' &&
      mesh !== null &&
      (mesh as Record<string, unknown>).enablePrometheusMerge === false
    );
  } catch {
    return true;
  }
}

/**
 * The scrape plan of a pod from its annotations, following Istio's injector: the pod's
 * prometheus.istio.io/merge-metrics annotation decides when it is a boolean, else `meshMerge`
 * (MeshConfig enablePrometheusMerge).
 */
export function podScrapePlan(
  annotations: Readonly<Record<string, string>>,
  sidecar: boolean,
  meshMerge: boolean,
): PodScrapePlan {
  const scrape = promAnnotation(annotations, 'scrape');
  const port = promAnnotation(annotations, 'port');
  const path = promAnnotation(annotations, 'path');
  const merge = parseBool(annotations[MERGE_METRICS_ANNOTATION]) ?? meshMerge;
  // The injector merges unless scrape says false (an unparsable value counts as true).
  if (sidecar && merge && parseBool(scrape) !== false) {
    const any = scrape !== undefined || port !== undefined || path !== undefined;
    const already = port === String(MERGED_STATS_PORT);
    const env =
      any && !already ? JSON.stringify({ scrape: scrape ?? '', path: path ?? '', port: port ?? '' }) : null;
    return { proxy: 'merged', annotationsEnv: env, app: null };
  }
  const p = Number(port);
  const app =
    parseBool(scrape) === true && Number.isInteger(p) && p > 0 && p < 65536
      ? { port: p, path: path || '/metrics' }
      : null;
  return { proxy: sidecar && !merge ? 'envoy' : null, annotationsEnv: null, app };
}

/**
 * A pod's scrape targets for targets.json: its sidecar's endpoint (on `podIp`) and/or its app's (on
 * `appIp`: the app's own address, which differs from the pod's in host network mode).
 */
export function podScrapeTargets(
  pod: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
  },
  podIp: string,
  appIp: string,
  plan: PodScrapePlan,
): ScrapeTarget[] {
  const labels = {
    namespace: pod.namespace,
    pod: pod.name,
    ...(pod.labels.app ? { app: pod.labels.app } : {}),
  };
  const out: ScrapeTarget[] = [];
  if (plan.proxy === 'merged')
    out.push({
      address: `${podIp}:${MERGED_STATS_PORT}`,
      path: '/stats/prometheus',
      labels: { job: 'kubernetes-pods', ...labels },
    });
  else if (plan.proxy === 'envoy')
    out.push({
      address: `${podIp}:${STATS_PORT}`,
      path: '/stats/prometheus',
      labels: { job: 'envoy-stats', ...labels },
    });
  if (plan.app)
    out.push({
      address: `${appIp}:${plan.app.port}`,
      path: plan.app.path,
      labels: { job: 'kubernetes-pods', ...labels },
    });
  return out;
}
