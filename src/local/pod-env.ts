// The environment of a workload process: the pod's identity as `mizzen up` wires it, plus the manifest's env.
import type { Resource } from '../api/resource.js';
import type { ContainerPlan, EnvVarSpec, PodPlan } from './manifest-to-pods.js';

/** The sidecar's outbound HTTP proxy port on the pod IP (Istio's outbound capture port). */
export const OUTBOUND_PROXY_PORT = 15001;

/** Where a pod runs. */
export interface PodAddress {
  /** 127.1.X.Y: the sidecar's address, the pod IP the mesh knows. */
  readonly podIp: string;
  /** 127.2.X.Y: where the app listens. */
  readonly appIp: string;
}

/** Finds ConfigMaps and Secrets for `valueFrom` (namespace, name → the resource). */
export type ObjectLookup = (
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  name: string,
) => Resource | undefined;

/** A lookup over loaded resources. */
export function lookupIn(resources: readonly Resource[]): ObjectLookup {
  return (kind, ns, name) =>
    resources.find(
      (r) => r.kind === kind && r.metadata.name === name && (r.metadata.namespace ?? 'default') === ns,
    );
}

/**
 * The identity env every process of a pod gets, as `kubectl exec` into that pod would see it:
 * HTTP_PROXY/http_proxy to the sidecar, POD_NAME/HOSTNAME, POD_NAMESPACE, SERVICE_ACCOUNT, INSTANCE_IP.
 */
export function identityEnv(
  pod: Pick<PodPlan, 'name' | 'namespace' | 'serviceAccount'>,
  addr: Pick<PodAddress, 'podIp'>,
): Record<string, string> {
  const proxy = `http://${addr.podIp}:${OUTBOUND_PROXY_PORT}`;
  return {
    HTTP_PROXY: proxy,
    http_proxy: proxy,
    POD_NAME: pod.name,
    HOSTNAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    SERVICE_ACCOUNT: pod.serviceAccount,
    INSTANCE_IP: addr.podIp,
  };
}

/** A container's env: identity, then the manifest's entries (resolved, `$(VAR)` expanded), then HOST/PORT. */
export function containerEnv(
  pod: PodPlan,
  c: ContainerPlan,
  addr: PodAddress,
  lookup: ObjectLookup = () => undefined,
): { env: Record<string, string>; notes: string[] } {
  const notes: string[] = [];
  const env: Record<string, string> = { ...identityEnv(pod, addr) };
  if (c.port !== undefined) env['PORT'] = String(c.port);
  for (const e of c.env) {
    const v = envValue(e, pod, addr, lookup, env);
    if (typeof v === 'string') env[e.name] = v;
    else if (v) notes.push(`${pod.name}/${c.name}: env ${e.name}: ${v.skip}`);
  }
  // The app must listen behind its sidecar, whatever the manifest says; without one, at the pod IP.
  env['HOST'] = pod.sidecar === false ? addr.podIp : addr.appIp;
  return { env, notes };
}

function envValue(
  e: EnvVarSpec,
  pod: PodPlan,
  addr: PodAddress,
  lookup: ObjectLookup,
  defined: Record<string, string>,
): string | { skip: string } | undefined {
  if (e.value !== undefined) return expandVars(e.value, defined);
  const from = e.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return fieldRef(String(from.fieldRef.fieldPath ?? ''), pod, addr);
  const ref = (from.configMapKeyRef ?? from.secretKeyRef) as Record<string, any> | undefined;
  if (ref) {
    const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const obj = lookup(kind, pod.namespace, String(ref.name));
    const v = obj ? dataValue(obj, String(ref.key)) : undefined;
    if (v !== undefined) return v;
    return ref.optional
      ? undefined
      : { skip: `${kind} ${pod.namespace}/${ref.name} key ${ref.key} not found` };
  }
  return { skip: `valueFrom ${Object.keys(from).join(', ')} is not supported locally` };
}

function dataValue(obj: Resource, key: string): string | undefined {
  const data = obj['data'] as Record<string, string> | undefined;
  const stringData = obj['stringData'] as Record<string, string> | undefined;
  if (stringData?.[key] !== undefined) return stringData[key];
  if (data?.[key] === undefined) return undefined;
  return obj.kind === 'Secret' ? Buffer.from(data[key], 'base64').toString('utf8') : data[key];
}

/** The Downward API fields a local pod can answer. */
export function fieldRef(path: string, pod: PodPlan, addr: PodAddress): string | { skip: string } {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'spec.serviceAccountName':
      return pod.serviceAccount;
    case 'spec.nodeName':
      return 'localhost';
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIp;
    case 'status.hostIP':
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      return { skip: `fieldRef ${path} is not supported locally` };
  }
}

/** Kubernetes `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown references stay as written. */
export function expandVars(s: string, vars: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && vars[name] !== undefined ? vars[name] : whole;
  });
}

/** argv with `$(VAR)` expanded from the container's env, as Kubernetes does for command and args. */
export function expandArgv(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return argv.map((a, i) => (i === 0 ? a : expandVars(a, env)));
}
