// `mizzen proxy`: runs the data plane (Mizzen's Envoy) from a bootstrap file and/or an ADS server.
import { fileURLToPath } from 'node:url';
import type { ProxyOptions } from '../proxy/proxy.js';
import { WORKER_ENV } from '../proxy/workers/messages.js';
import { defineCommand, UsageError } from './command.js';
import { parseDuration } from '../api/duration.js';
import { appMetricsTarget, PROMETHEUS_ANNOTATIONS_ENV } from '../proxy/admin/app-metrics.js';

/** The `mizzen` command of this checkout: what `--concurrency` workers run. */
const BIN = fileURLToPath(new URL('../../../bin/mizzen.js', import.meta.url));

const USAGE = `usage:
  mizzen proxy sidecar|router --xds-address HOST:PORT --id NODE_ID [--metadata JSON]
  mizzen proxy --bootstrap FILE [--xds-address HOST:PORT] [--id NODE_ID]

flags:
  --bootstrap FILE       Envoy-style bootstrap (YAML or JSON): static_resources, dynamic_resources.ads_config, admin
  --xds-address H:P[,H:P…]  ADS server (overrides the bootstrap's ads_config); several: replicas of the
                         control plane, tried in turn when the stream fails (last good config keeps serving)
  --id NODE_ID           node id, e.g. sidecar~127.1.0.2~reviews-v1-0.default~default.svc.cluster.local
  --metadata JSON        node metadata (Istio keys: NAMESPACE, LABELS, WORKLOAD_NAME, ...)
  --admin-port N         admin port (default 15000; 0 = any free port)
  --admin-address IP     where admin listens (default 127.0.0.1)
  --status-port N        Istio's status port: GET /healthz/ready on 0.0.0.0:N (200 once LIVE, else 503), for
                         Kubernetes readiness probes (kube-inject sets 15021); 0 = any free port
  --stats-address IP:P   Envoy's Prometheus endpoint (Istio's 15090): GET /stats/prometheus there
  --merged-stats-address IP:P  Istio's merged metrics (pilot-agent's 15020): GET /stats/prometheus there
                         answers the agent's and the proxy's metrics, plus the app's when the environment
                         has ISTIO_PROMETHEUS_ANNOTATIONS ({"scrape","path","port"} from the pod's
                         prometheus.io annotations; the app is reached at metadata MIZZEN_APP_HOST, else
                         127.0.0.1)
  --access-log           Istio's access log on stdout for HTTP managers without one
  --ready-file PATH      write {"admin", "adminPort", "listeners": {name: "ip:port"}, "state"} once LIVE
  --drain-time-s N       how long removed listeners drain (default 45)
  --concurrency N        worker processes sharing the listeners, like Envoy's worker threads (default 1:
                         one process); admin is served once, with stats summed over the workers
  --log-level LEVEL      trace|debug|info|warning|error|critical|off (default info)

workload certificate (Istio's istio-agent; on when --token-file is given):
  --token-file PATH      the pod's service-account token, sent to the CA as the proof of identity
  --ca-address H:P       CA (IstioCertificateService) address (default: --xds-address)
  --trust-domain TD      SPIFFE trust domain (default cluster.local); the identity is
                         spiffe://TD/ns/<metadata NAMESPACE>/sa/<metadata SERVICE_ACCOUNT or default>
  --cert-ttl DURATION    requested certificate lifetime, e.g. 24h, 30s (default: the CA's, 24h)
  --cert-rotation-fraction F  renew once this fraction of the lifetime has passed (default 0.5)`;

export default defineCommand({
  name: 'proxy',
  summary: 'run the data plane (an Envoy-compatible proxy) from a bootstrap or an ADS server',
  help: USAGE,
  flags: {
    bootstrap: { type: 'string' },
    'xds-address': { type: 'string' },
    'status-port': { type: 'string' },
    'stats-address': { type: 'string' },
    'merged-stats-address': { type: 'string' },
    id: { type: 'string' },
    metadata: { type: 'string' },
    'admin-port': { type: 'string' },
    'admin-address': { type: 'string' },
    'access-log': { type: 'boolean' },
    'ready-file': { type: 'string' },
    'drain-time-s': { type: 'string' },
    'log-level': { type: 'string' },
    concurrency: { type: 'string' },
    'token-file': { type: 'string' },
    'ca-address': { type: 'string' },
    'trust-domain': { type: 'string' },
    'cert-ttl': { type: 'string' },
    'cert-rotation-fraction': { type: 'string' },
  },
  args: { min: 0, max: 1, expected: 'sidecar|router' },
  async run({ flags: values, args: positionals, argv }) {
    const kind = positionals[0];
    if (kind !== undefined && kind !== 'sidecar' && kind !== 'router')
      throw new UsageError(`unknown proxy type "${kind}"`);
    if (!values.bootstrap && !values['xds-address'])
      throw new UsageError(`need --bootstrap or --xds-address`);
    let metadata: Record<string, unknown> | undefined;
    if (values.metadata) {
      try {
        metadata = JSON.parse(values.metadata) as Record<string, unknown>;
      } catch (e) {
        throw new UsageError(`--metadata is not JSON: ${(e as Error).message}`);
      }
    }
    const num = (v: string | undefined, flag: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer`);
      return n;
    };
    const adminPort = num(values['admin-port'], '--admin-port');
    if (values['stats-address'] !== undefined && parseConcurrency(values.concurrency) > 1)
      throw new UsageError(
        '--stats-address is not supported with --concurrency above 1 yet; run one process',
      );
    const statsAddress = parseStatsAddress(values['stats-address']);
    if (values['merged-stats-address'] !== undefined && parseConcurrency(values.concurrency) > 1)
      throw new UsageError(
        '--merged-stats-address is not supported with --concurrency above 1 yet; run one process',
      );
    const mergedStats = mergedStatsOptions(values['merged-stats-address'], metadata, kind);
    if (values['status-port'] !== undefined && parseConcurrency(values.concurrency) > 1)
      throw new UsageError('--status-port is not supported with --concurrency above 1 yet; run one process');
    const drain = num(values['drain-time-s'], '--drain-time-s');
    const concurrency = parseConcurrency(values.concurrency);
    const certAgent = certAgentOptions(values, metadata, values.id);
    const workerIndex = process.env[WORKER_ENV];
    if (concurrency > 1 && workerIndex === undefined) {
      // The primary parses no bootstrap and loads no proxy code: its workers do, and report errors.
      const { runPrimary } = await import('../proxy/workers/run-primary.js');
      return runPrimary({
        concurrency,
        exec: BIN,
        args: ['proxy', ...argv],
        readyFile: values['ready-file'] ?? null,
        logLevel: values['log-level'],
      });
    }
    const proxyOptions = async (): Promise<ProxyOptions> => {
      const { loadBootstrapFile } = await import('../proxy/bootstrap/bootstrap.js');
      const bootstrap = values.bootstrap ? loadBootstrapFile(values.bootstrap) : null;
      let nodeId = values.id;
      if (!nodeId && !bootstrap?.node.id)
        nodeId = `${kind ?? 'sidecar'}~127.0.0.1~mizzen-proxy.default~default.svc.cluster.local`;
      return {
        bootstrap,
        xdsAddress: values['xds-address'] ?? null,
        statusPort: num(values['status-port'], '--status-port') ?? null,
        statsAddress,
        mergedStats,
        nodeId,
        metadata,
        adminPort,
        ...(values['admin-address'] ? { adminAddress: values['admin-address'] } : {}),
        accessLog: values['access-log'] === true,
        readyFile: values['ready-file'] ?? null,
        drainTimeMs: drain !== undefined ? drain * 1000 : undefined,
        logLevel: values['log-level'],
        concurrency,
        certAgent,
      };
    };
    if (workerIndex !== undefined && concurrency > 1) {
      const { runWorker } = await import('../proxy/workers/worker.js');
      return runWorker(Number(workerIndex), proxyOptions);
    }
    const { Proxy } = await import('../proxy/proxy.js');
    let done!: (code: number) => void;
    const exited = new Promise<number>((r) => (done = r));
    let p: Awaited<ReturnType<typeof Proxy.start>>;
    try {
      p = await Proxy.start({ ...(await proxyOptions()), onQuit: () => done(0) });
    } catch (e) {
      // Bad bootstrap or a busy port: one line naming the file, resource and field, no stack trace.
      console.error(`mizzen proxy: ${(e as Error).message}`);
      return 1;
    }
    const stop = (): void => {
      void p.close().then(() => done(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const code = await exited;
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
    return code;
  },
});

/**
 * `--merged-stats-address IP:PORT` with the app endpoint of ISTIO_PROMETHEUS_ANNOTATIONS (sidecars
 * only: pilot-agent never scrapes an app behind a gateway); null when the flag is absent.
 */
function mergedStatsOptions(
  v: string | undefined,
  metadata: Record<string, unknown> | undefined,
  kind: string | undefined,
): ProxyOptions['mergedStats'] {
  const at = parseStatsAddress(v, '--merged-stats-address');
  if (at === null) return null;
  const host = typeof metadata?.MIZZEN_APP_HOST === 'string' ? metadata.MIZZEN_APP_HOST : '127.0.0.1';
  try {
    const env = kind === 'router' ? undefined : process.env[PROMETHEUS_ANNOTATIONS_ENV];
    return { ...at, app: appMetricsTarget(env, host, at.port) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--stats-address IP:PORT` (Envoy's Prometheus port, Istio's 15090); null when absent. */
function parseStatsAddress(
  v: string | undefined,
  flag = '--stats-address',
): { address: string; port: number } | null {
  if (v === undefined) return null;
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} must be IP:PORT (e.g. 127.1.0.2:15090), got "${v}"`);
  return { address: v.slice(0, i), port };
}

/** The certificate agent's settings from the flags; null without --token-file. */
export function certAgentOptions(
  values: Record<string, string | boolean | undefined>,
  metadata: Record<string, unknown> | undefined,
  nodeId: string | undefined,
): ProxyOptions['certAgent'] {
  const tokenFile = values['token-file'];
  if (typeof tokenFile !== 'string') {
    for (const f of ['ca-address', 'trust-domain', 'cert-ttl', 'cert-rotation-fraction'])
      if (values[f] !== undefined)
        throw new UsageError(`--${f} needs --token-file (the pod's token for the CA)`);
    return null;
  }
  const caAddress = (values['ca-address'] ?? values['xds-address']) as string | undefined;
  if (!caAddress) throw new UsageError('--token-file needs --ca-address or --xds-address (where the CA is)');
  let ttlSeconds = 0;
  if (values['cert-ttl'] !== undefined) {
    const ms = parseDuration(String(values['cert-ttl']));
    if (ms === undefined || ms < 1000)
      throw new UsageError(
        `--cert-ttl must be a duration of at least 1s (e.g. 24h, 30s), got "${values['cert-ttl']}"`,
      );
    ttlSeconds = Math.round(ms / 1000);
  }
  const fraction =
    values['cert-rotation-fraction'] === undefined ? 0.5 : Number(values['cert-rotation-fraction']);
  if (!(fraction > 0 && fraction < 1))
    throw new UsageError(
      `--cert-rotation-fraction must be between 0 and 1 (exclusive), got "${values['cert-rotation-fraction']}"`,
    );
  // Namespace: node metadata, else the node id's `<pod>.<ns>` part (sidecar~ip~pod.ns~domain).
  const idNs = /^[^~]*~[^~]*~[^.~]*\.([^~]+)~/.exec(nodeId ?? '')?.[1];
  const ns = String(metadata?.NAMESPACE ?? idNs ?? 'default');
  const sa = String(metadata?.SERVICE_ACCOUNT ?? 'default');
  const td = String(values['trust-domain'] ?? 'cluster.local');
  return {
    caAddress,
    tokenFile,
    identity: `spiffe://${td}/ns/${ns}/sa/${sa}`,
    ttlSeconds,
    rotationFraction: fraction,
  };
}

/** `--concurrency`: a positive integer, default 1. */
function parseConcurrency(v: string | undefined): number {
  if (v === undefined) return 1;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--concurrency must be a positive integer (worker processes), got "${v}"`);
  return n;
}
