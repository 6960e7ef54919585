// The containers, labels and annotations sidecar injection adds to a pod spec (Istio's sidecar template, Mizzen's proxy).
import { captureRules, KUBERNETES_CAPTURE, PROXY_UID } from '../local/capture-rules.js';
import { MERGED_STATS_PORT, podScrapePlan } from '../local/prometheus-merge.js';
import { PROMETHEUS_ANNOTATIONS_ENV } from '../proxy/admin/app-metrics.js';
import type { InjectionSettings } from './injection-settings.js';

/** Where the injected proxy finds the control plane, and which image runs it. */
export interface InjectOptions {
  /** Image of the proxy and init containers (Mizzen's image carries both). */
  readonly image: string;
  /** Control plane xDS address(es), `host:port[,host:port…]` (replicas: the proxy fails over). */
  readonly discoveryAddress: string;
  /** MeshConfig enablePrometheusMerge, read when a pod is injected (Istio's default true). */
  readonly enablePrometheusMerge: () => boolean;
}

/** The injected containers' names, as Istio names them (tools and dashboards look for these). */
export const PROXY_CONTAINER = 'istio-proxy';
export const INIT_CONTAINER = 'istio-init';

/** A pod template as plain JSON. */
export interface PodTemplate {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: { containers?: any[]; initContainers?: any[]; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * Starts the proxy with its node identity from the downward API. Node metadata is built in the shell:
 * every value is a Kubernetes name, IP or JSON made at injection time, none holds a quote.
 */
const PROXY_SCRIPT = [
  'exec mizzen proxy sidecar',
  '--xds-address "$MIZZEN_XDS_ADDRESS"',
  '--id "sidecar~$INSTANCE_IP~$POD_NAME.$POD_NAMESPACE~$POD_NAMESPACE.svc.cluster.local"',
  '--metadata "{\\"NAMESPACE\\":\\"$POD_NAMESPACE\\",\\"INSTANCE_IPS\\":\\"$INSTANCE_IP\\",\\"SERVICE_ACCOUNT\\":\\"$SERVICE_ACCOUNT\\",\\"WORKLOAD_NAME\\":\\"$ISTIO_META_WORKLOAD_NAME\\",\\"APP_CONTAINERS\\":\\"$ISTIO_META_APP_CONTAINERS\\",\\"INTERCEPTION_MODE\\":\\"REDIRECT\\",\\"LABELS\\":$ISTIO_METAJSON_LABELS}"',
  '--token-file /var/run/secrets/tokens/istio-token',
  '${MIZZEN_STATUS_PORT:+--status-port "$MIZZEN_STATUS_PORT"}',
  '--stats-address 0.0.0.0:15090',
  '${MIZZEN_MERGED_STATS_PORT:+--merged-stats-address "0.0.0.0:$MIZZEN_MERGED_STATS_PORT"}',
  '--log-level "$MIZZEN_LOG_LEVEL"',
].join(' ');

/**
 * Istio's `istio-token` volume: a projected service-account token for the audience `istio-ca`, which
 * the proxy sends with its certificate requests (the control plane checks it with a TokenReview).
 */
export const TOKEN_VOLUME = {
  name: 'istio-token',
  projected: {
    sources: [
      { serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } },
    ],
  },
};

/** Loads the capture rules in the pod's network namespace (the init container's only job). */
const INIT_SCRIPT = 'printf "%s" "$MIZZEN_CAPTURE_RULES" | iptables-restore --noflush';

/** Blocks the app containers until the proxy is ready (postStart of the first container). */
const WAIT_SCRIPT =
  'until wget -q -O /dev/null "http://127.0.0.1:$MIZZEN_STATUS_PORT/healthz/ready"; do sleep 0.2; done';

const fieldEnv = (name: string, fieldPath: string): unknown => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/** The pod template with the sidecar injected (a new object; `tmpl` is not changed). */
export function injectedTemplate(
  tmpl: PodTemplate,
  workloadName: string,
  settings: InjectionSettings,
  options: InjectOptions,
): PodTemplate {
  const meta = tmpl.metadata ?? {};
  const spec = tmpl.spec ?? {};
  const labels = { ...meta.labels };
  const appContainers: any[] = spec.containers ?? [];
  const image = settings.image ?? options.image;
  const resources = {
    requests: { cpu: settings.cpuRequest, memory: settings.memoryRequest },
    ...(settings.cpuLimit || settings.memoryLimit
      ? {
          limits: {
            ...(settings.cpuLimit ? { cpu: settings.cpuLimit } : {}),
            ...(settings.memoryLimit ? { memory: settings.memoryLimit } : {}),
          },
        }
      : {}),
  };
  const scrape = podScrapePlan(meta.annotations ?? {}, true, options.enablePrometheusMerge());
  const proxy: Record<string, unknown> = {
    name: PROXY_CONTAINER,
    image,
    command: ['sh', '-c', PROXY_SCRIPT],
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'ISTIO_META_WORKLOAD_NAME', value: workloadName },
      { name: 'ISTIO_META_APP_CONTAINERS', value: appContainers.map((c) => c?.name).join(',') },
      { name: 'ISTIO_METAJSON_LABELS', value: JSON.stringify(labels) },
      { name: 'MIZZEN_XDS_ADDRESS', value: options.discoveryAddress },
      // Empty when the status port is off (annotation 0): the script then passes no --status-port.
      { name: 'MIZZEN_STATUS_PORT', value: settings.statusPort > 0 ? String(settings.statusPort) : '' },
      { name: 'MIZZEN_LOG_LEVEL', value: settings.logLevel ?? 'info' },
      // Istio's metrics merging: the agent's :15020 serves the proxy's metrics and the app's.
      { name: 'MIZZEN_MERGED_STATS_PORT', value: scrape.proxy === 'merged' ? String(MERGED_STATS_PORT) : '' },
      ...(scrape.annotationsEnv !== null
        ? [{ name: PROMETHEUS_ANNOTATIONS_ENV, value: scrape.annotationsEnv }]
        : []),
    ],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    volumeMounts: [{ name: TOKEN_VOLUME.name, mountPath: '/var/run/secrets/tokens', readOnly: true }],
    resources,
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    ...(settings.statusPort > 0
      ? {
          readinessProbe: {
            httpGet: { path: '/healthz/ready', port: settings.statusPort },
            initialDelaySeconds: settings.readinessInitialDelaySeconds,
            periodSeconds: settings.readinessPeriodSeconds,
            failureThreshold: settings.readinessFailureThreshold,
            timeoutSeconds: 3,
          },
        }
      : {}),
    ...(settings.holdApplicationUntilProxyStarts
      ? { lifecycle: { postStart: { exec: { command: ['sh', '-c', WAIT_SCRIPT] } } } }
      : {}),
  };
  const init = {
    name: INIT_CONTAINER,
    image,
    command: ['sh', '-c', INIT_SCRIPT],
    env: [{ name: 'MIZZEN_CAPTURE_RULES', value: captureRules(settings.capture, KUBERNETES_CAPTURE) }],
    resources: { requests: { cpu: '10m', memory: '10Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
  const containers = settings.holdApplicationUntilProxyStarts
    ? [proxy, ...appContainers]
    : [...appContainers, proxy];
  const status = {
    initContainers: [INIT_CONTAINER],
    containers: [PROXY_CONTAINER],
    volumes: [TOKEN_VOLUME.name],
    imagePullSecrets: null,
    revision: 'default',
  };
  return {
    ...tmpl,
    metadata: {
      ...meta,
      labels: {
        ...labels,
        'security.istio.io/tlsMode': 'istio',
        'service.istio.io/canonical-name':
          labels['service.istio.io/canonical-name'] ?? labels.app ?? workloadName,
        'service.istio.io/canonical-revision':
          labels['service.istio.io/canonical-revision'] ?? labels.version ?? 'latest',
      },
      annotations: {
        ...(scrape.proxy === 'merged' ? mergedScrapeAnnotations(meta.annotations ?? {}) : meta.annotations),
        ...(appContainers[0]?.name
          ? { 'kubectl.kubernetes.io/default-container': appContainers[0].name }
          : {}),
        'sidecar.istio.io/status': JSON.stringify(status),
      },
    },
    spec: {
      ...spec,
      initContainers: [...(spec.initContainers ?? []), init],
      containers,
      volumes: [...((spec.volumes as unknown[] | undefined) ?? []), TOKEN_VOLUME],
    },
  };
}

/**
 * The pod's annotations as Istio's injector leaves them when it merges metrics: every spelling of
 * prometheus.io/scrape, port and path replaced by the agent's endpoint.
 */
function mergedScrapeAnnotations(a: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a))
    if (!/^prometheus_io_(scrape|port|path)$/.test(k.replace(/[^a-zA-Z0-9_]/g, '_'))) out[k] = v;
  out['prometheus.io/port'] = String(MERGED_STATS_PORT);
  out['prometheus.io/path'] = '/stats/prometheus';
  out['prometheus.io/scrape'] = 'true';
  return out;
}
