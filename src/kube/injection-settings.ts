// Istio's sidecar injection annotations on a pod template, checked and turned into injection settings.
import { parse as parseYaml } from 'yaml';
import { capturePlan, KUBERNETES_CAPTURE, type CapturePlan } from '../local/capture-rules.js';

/** Where an annotation problem is reported: the annotation's key and a message. */
export interface SettingProblem {
  readonly severity: 'error' | 'warning';
  /** The annotation (or label) key. */
  readonly key: string;
  readonly message: string;
}

/** Everything the sidecar template reads from a pod's annotations. */
export interface InjectionSettings {
  readonly capture: CapturePlan;
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string | null;
  readonly memoryLimit: string | null;
  /** The proxy container goes first and the app containers wait for it (postStart). */
  readonly holdApplicationUntilProxyStarts: boolean;
  /** Port of the proxy's /healthz/ready; 0 = no readiness probe. */
  readonly statusPort: number;
  readonly readinessInitialDelaySeconds: number;
  readonly readinessPeriodSeconds: number;
  readonly readinessFailureThreshold: number;
  /** Proxy image override (sidecar.istio.io/proxyImage), or null. */
  readonly image: string | null;
  /** Proxy log level (sidecar.istio.io/logLevel), or null. */
  readonly logLevel: string | null;
}

const A = {
  inject: 'sidecar.istio.io/inject',
  proxyCPU: 'sidecar.istio.io/proxyCPU',
  proxyMemory: 'sidecar.istio.io/proxyMemory',
  proxyCPULimit: 'sidecar.istio.io/proxyCPULimit',
  proxyMemoryLimit: 'sidecar.istio.io/proxyMemoryLimit',
  proxyConfig: 'proxy.istio.io/config',
  proxyImage: 'sidecar.istio.io/proxyImage',
  logLevel: 'sidecar.istio.io/logLevel',
  interceptionMode: 'sidecar.istio.io/interceptionMode',
  statusPort: 'status.sidecar.istio.io/port',
  readinessInitialDelay: 'readiness.status.sidecar.istio.io/initialDelaySeconds',
  readinessPeriod: 'readiness.status.sidecar.istio.io/periodSeconds',
  readinessFailure: 'readiness.status.sidecar.istio.io/failureThreshold',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
} as const;

/** The inject annotation/label key. */
export const INJECT_KEY = A.inject;

/** Annotations Mizzen reads; any other `*.istio.io/*` injection annotation gets a warning. */
const KNOWN = new Set<string>([
  ...Object.values(A),
  'sidecar.istio.io/status',
  'kubectl.kubernetes.io/default-container',
]);
/** Prefixes of Istio's injection-time annotations (others, e.g. networking, are not injection's business). */
const INJECTION_PREFIXES = [
  'sidecar.istio.io/',
  'traffic.sidecar.istio.io/',
  'status.sidecar.istio.io/',
  'readiness.status.sidecar.istio.io/',
  'proxy.istio.io/',
];

/** A Kubernetes resource quantity (`100m`, `0.5`, `128Mi`, `1G`). */
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off']);

/** Reads the settings from a pod template's annotations; problems name the annotation. */
export function injectionSettings(annotations: Readonly<Record<string, string>>): {
  settings: InjectionSettings;
  problems: SettingProblem[];
} {
  const problems: SettingProblem[] = [];
  const err = (key: string, message: string): void => void problems.push({ severity: 'error', key, message });
  const get = (key: string): string | undefined => annotations[key];
  const quantity = (key: string, def: string | null): string | null => {
    const v = get(key);
    if (v === undefined) return def;
    if (!QUANTITY.test(v)) {
      err(key, `"${v}" is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi)`);
      return def;
    }
    return v;
  };
  const int = (key: string, def: number, min: number, max: number): number => {
    const v = get(key);
    if (v === undefined) return def;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) {
      err(key, `"${v}" must be an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const capture = capturePlan(annotations, KUBERNETES_CAPTURE);
  for (const p of capture.problems) err(p.key, p.message);
  const logLevel = get(A.logLevel) ?? null;
  if (logLevel !== null && !LOG_LEVELS.has(logLevel))
    err(A.logLevel, `"${logLevel}" is not a log level (trace, debug, info, warning, error, critical, off)`);
  for (const key of Object.keys(annotations))
    if (INJECTION_PREFIXES.some((p) => key.startsWith(p)) && !KNOWN.has(key))
      problems.push({
        severity: 'warning',
        key,
        message: "is not supported by Mizzen's injector; it has no effect",
      });

  const settings: InjectionSettings = {
    capture: capture.plan,
    cpuRequest: quantity(A.proxyCPU, '100m')!,
    memoryRequest: quantity(A.proxyMemory, '128Mi')!,
    cpuLimit: quantity(A.proxyCPULimit, null),
    memoryLimit: quantity(A.proxyMemoryLimit, null),
    holdApplicationUntilProxyStarts: proxyConfigHold(get(A.proxyConfig), problems),
    statusPort: int(A.statusPort, 15021, 0, 65535),
    readinessInitialDelaySeconds: int(A.readinessInitialDelay, 1, 0, 3600),
    readinessPeriodSeconds: int(A.readinessPeriod, 2, 1, 3600),
    readinessFailureThreshold: int(A.readinessFailure, 30, 1, 1000),
    image: get(A.proxyImage) ?? null,
    logLevel,
  };
  return { settings, problems };
}

/**
 * `proxy.istio.io/config` is a ProxyConfig in YAML or JSON; Mizzen's injector reads its
 * `holdApplicationUntilProxyStarts` and warns about every other field.
 */
function proxyConfigHold(text: string | undefined, problems: SettingProblem[]): boolean {
  if (text === undefined) return false;
  const key = A.proxyConfig;
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    problems.push({ severity: 'error', key, message: `is not YAML: ${(e as Error).message}` });
    return false;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    problems.push({ severity: 'error', key, message: 'must be a ProxyConfig object (YAML or JSON)' });
    return false;
  }
  let hold = false;
  for (const [field, value] of Object.entries(v)) {
    if (field === 'holdApplicationUntilProxyStarts') {
      if (typeof value === 'boolean') hold = value;
      else
        problems.push({
          severity: 'error',
          key,
          message: `holdApplicationUntilProxyStarts must be true or false`,
        });
    } else
      problems.push({
        severity: 'warning',
        key,
        message: `ProxyConfig field ${field} is not supported by Mizzen's injector; it has no effect`,
      });
  }
  return hold;
}
