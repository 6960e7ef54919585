// Generates the control-plane benchmark's config directory: N services, each with a Service, a
// DestinationRule (subsets v1, v2), two running Pods and a VirtualService (header match + 90/10 split),
// all in `default`, or spread over namespaces with a Sidecar each (the Sidecar-scoped layout).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimNode } from './ads-sim.js';

/** Pod IP of pod `p` (0-based): 127.1.x.y, 250 per /24. */
function podIp(p: number): string {
  return `127.1.${Math.floor(p / 250)}.${(p % 250) + 1}`;
}

function appIp(p: number): string {
  return `127.2.${Math.floor(p / 250)}.${(p % 250) + 1}`;
}

/** Name of service i. */
export function serviceName(i: number): string {
  return `svc-${i}`;
}

/**
 * Where the services live: `perNamespace` null = all in `default` without a Sidecar (the classic run);
 * K = services 0..K-1 in `ns-0`, K..2K-1 in `ns-1`, ..., each namespace with a Sidecar `default` whose
 * egress hosts are `./*` and `istio-system/*`.
 */
export interface MeshLayout {
  /** Services per namespace, or null for one namespace `default` and no Sidecars. */
  readonly perNamespace: number | null;
}

/** Everything in `default`, no Sidecars. */
export const UNSCOPED: MeshLayout = { perNamespace: null };

/** Namespace of service i under the layout. */
export function namespaceOf(layout: MeshLayout, i: number): string {
  return layout.perNamespace === null ? 'default' : `ns-${Math.floor(i / layout.perNamespace)}`;
}

/** Number of namespaces `services` services fill under the layout. */
export function namespaceCount(layout: MeshLayout, services: number): number {
  return layout.perNamespace === null ? 1 : Math.ceil(services / layout.perNamespace);
}

function serviceYaml(name: string, namespace: string, firstPod: number): string {
  const pods = ['v1', 'v2']
    .map(
      (v, k) => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}-${v}-0
  namespace: ${namespace}
  labels: { app: ${name}, version: ${v} }
spec:
  containers:
  - name: app
    ports: [{ containerPort: 9080, name: http }]
status:
  phase: Running
  podIP: ${podIp(firstPod + k)}
  conditions: [{ type: Ready, status: 'True' }]
`,
    )
    .join('');
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace}, labels: { app: ${name} } }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 9080, targetPort: 9080 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  host: ${name}
  trafficPolicy:
    connectionPool: { http: { http1MaxPendingRequests: 1024, maxRequestsPerConnection: 100 } }
    outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
${pods}`;
}

/** The VirtualService of a service; `canary` is the header value that selects v2 (changing it is the benchmark's edit). */
export function virtualServiceYaml(name: string, canary: string, namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${name}]
  http:
  - match: [{ headers: { x-canary: { exact: ${canary} } } }]
    route: [{ destination: { host: ${name}, subset: v2 } }]
  - route:
    - { destination: { host: ${name}, subset: v1 }, weight: 90 }
    - { destination: { host: ${name}, subset: v2 }, weight: 10 }
`;
}

/** Writes a file atomically (temp + rename), so the watcher never reads half of it. */
export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Options of {@link writeServices}. */
export interface WriteOptions {
  /** Namespace layout (default {@link UNSCOPED}). */
  layout?: MeshLayout;
  /** Name prefix: `svc` names service i `svc-i` ({@link serviceName}); others `PREFIX-i`. */
  prefix?: string;
  /** Put every service written in this namespace instead of the layout's. */
  namespace?: string;
}

/** Writes services `from`..`to-1` (pods 2i and 2i+1) with their VirtualServices. */
export function writeServices(dir: string, from: number, to: number, o: WriteOptions = {}): void {
  const layout = o.layout ?? UNSCOPED;
  const prefix = o.prefix ?? 'svc';
  mkdirSync(join(dir, 'services'), { recursive: true });
  mkdirSync(join(dir, 'virtualservices'), { recursive: true });
  for (let i = from; i < to; i++) {
    const name = prefix === 'svc' ? serviceName(i) : `${prefix}-${i}`;
    const ns = o.namespace ?? namespaceOf(layout, i);
    writeAtomic(join(dir, 'services', `${name}.yaml`), serviceYaml(name, ns, 2 * i));
    writeAtomic(join(dir, 'virtualservices', `${name}.yaml`), virtualServiceYaml(name, "'true'", ns));
  }
}

/**
 * Writes one more Pod of service i's v1 (a Deployment scaled up by one: an endpoint-only change) at
 * 127.3.0.1, an address no other Pod has, so the address is a marker in EDS responses.
 */
export function writeScaledPod(dir: string, i: number, namespace: string): string {
  const name = serviceName(i);
  const ip = '127.3.0.1';
  mkdirSync(join(dir, 'scaled'), { recursive: true });
  writeAtomic(
    join(dir, 'scaled', `${name}-v1-1.yaml`),
    `apiVersion: v1
kind: Pod
metadata:
  name: ${name}-v1-1
  namespace: ${namespace}
  labels: { app: ${name}, version: v1 }
spec:
  containers:
  - name: app
    ports: [{ containerPort: 9080, name: http }]
status:
  phase: Running
  podIP: ${ip}
  conditions: [{ type: Ready, status: 'True' }]
`,
  );
  return ip;
}

/** Writes the layout's Sidecars (one per namespace, egress `./*` and `istio-system/*`); none when unscoped. */
export function writeSidecars(dir: string, layout: MeshLayout, services: number): void {
  if (layout.perNamespace === null) return;
  mkdirSync(join(dir, 'sidecars'), { recursive: true });
  for (let n = 0; n < namespaceCount(layout, services); n++) {
    writeAtomic(
      join(dir, 'sidecars', `ns-${n}.yaml`),
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: ns-${n} }
spec:
  egress:
  - hosts: ['./*', 'istio-system/*']
`,
    );
  }
}

/**
 * Node identities for `count` simulated proxies, the sidecars of the generated pods (round robin), each
 * in its service's namespace.
 */
export function simNodes(services: number, count: number, layout: MeshLayout = UNSCOPED): SimNode[] {
  const nodes: SimNode[] = [];
  for (let c = 0; c < count; c++) {
    const p = c % (2 * services);
    const name = serviceName(Math.floor(p / 2));
    const ns = namespaceOf(layout, Math.floor(p / 2));
    const version = p % 2 ? 'v2' : 'v1';
    const pod = `${name}-${version}-0`;
    nodes.push({
      id: `sidecar~${podIp(p)}~${pod}.${ns}~${ns}.svc.cluster.local`,
      metadata: {
        NAMESPACE: ns,
        LABELS: { app: name, version },
        WORKLOAD_NAME: `${name}-${version}`,
        SERVICE_ACCOUNT: 'default',
        INSTANCE_IPS: podIp(p),
        CLUSTER_ID: 'Kubernetes',
        INTERCEPTION_MODE: 'NONE',
        MIZZEN_APP_HOST: appIp(p),
      },
    });
  }
  return nodes;
}
