// Expands Deployments and Pods into the pods `mizzen up` runs: names, labels, ports, processes, env.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Resource } from '../api/resource.js';
import { sourceOf } from '../api/resource.js';
import { fnv1a } from './pod-ip.js';

/** A container port as written in the manifest. */
export interface ContainerPort {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol?: string;
}

/** One env entry as written in the manifest (`value` or `valueFrom`). */
export interface EnvVarSpec {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: Record<string, any>;
}

/** One container, run as one local process. */
export interface ContainerPlan {
  readonly name: string;
  /** argv: `command` + `args` of the manifest, `$(VAR)` not yet expanded; [0] resolved (node → this Node). */
  readonly argv: readonly string[];
  /** Working directory: the manifest's folder, or `workingDir` resolved against it. */
  readonly cwd: string;
  readonly env: readonly EnvVarSpec[];
  /** First containerPort, passed as PORT; absent when the container declares none. */
  readonly port?: number;
}

/** A pod to run: identity, ports and the processes of its containers. */
export interface PodPlan {
  readonly name: string;
  readonly namespace: string;
  /** The owning workload: Deployment name, or the pod name for a bare Pod. */
  readonly workload: string;
  readonly workloadKind: 'Deployment' | 'Pod';
  /** Pod labels (a Deployment's template labels plus `pod-template-hash`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** False when `sidecar.istio.io/inject: "false"` (annotation or label): the pod runs without a sidecar. */
  readonly sidecar: boolean;
  /** Every container's ports, in order. */
  readonly ports: readonly ContainerPort[];
  /** Every container of the manifest (runnable or not) with its ports, for the generated Pod object. */
  readonly podContainers: readonly { readonly name: string; readonly ports: readonly ContainerPort[] }[];
  /** Containers that can run locally (those with a `command`). */
  readonly containers: readonly ContainerPlan[];
  /** The `pod-template-hash` of a Deployment's pods. */
  readonly templateHash?: string;
  /** SIGTERM → SIGKILL grace (seconds): `terminationGracePeriodSeconds`, capped at 30. */
  readonly gracePeriodSeconds: number;
  /** Changes whenever anything that would need a restart changes. */
  readonly fingerprint: string;
  /** The pod's restartPolicy: Always (Deployments), OnFailure or Never. */
  readonly restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** One-line notes for the user (image ignored, container skipped). */
  readonly notes: readonly string[];
}

/** Where a workload's relative paths start: its manifest's folder. */
export type ManifestDir = (r: Resource) => string;

/** The manifest's folder, from the loader's source position; the current directory otherwise. */
export const defaultManifestDir: ManifestDir = (r) => {
  const dir = r.metadata.annotations?.[MANIFEST_DIR_ANNOTATION];
  if (dir) return dir;
  const f = sourceOf(r)?.file;
  return f && f !== '-' ? dirname(resolve(f)) : process.cwd();
};

/** Annotation `mizzen apply` puts on workloads so their commands still resolve from the config copy. */
export const MANIFEST_DIR_ANNOTATION = 'mizzen.io/manifest-dir';

/** Annotation on generated Pods naming the app address behind the pod IP. */
export const APP_HOST_ANNOTATION = 'mizzen.io/app-host';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' rand.SafeEncodeString over the decimal hash (no vowels, no look-alike digits). */
function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE[s.charCodeAt(i) % SAFE.length];
  return out;
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The `pod-template-hash` label Kubernetes gives a Deployment's pods (FNV-32a, safe-encoded). */
export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv1a(stableJson(template))));
}

/** The 5-character pod name suffix, stable per Deployment, template and replica index. */
function podSuffix(key: string): string {
  let h = fnv1a(key);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += SAFE[h % SAFE.length];
    h = Math.floor(h / SAFE.length) ^ fnv1a(`${key}/${i}`);
    h >>>= 0;
  }
  return out;
}

/** Result of expanding workloads. */
export interface Expansion {
  readonly pods: PodPlan[];
  /** Notes for resources that produce no pods (other workload kinds). */
  readonly notes: string[];
}

/** Expands every Deployment and Pod into pod plans, in manifest order. */
export function manifestToPods(
  resources: readonly Resource[],
  dirOf: ManifestDir = defaultManifestDir,
): Expansion {
  const pods: PodPlan[] = [];
  const notes: string[] = [];
  for (const r of resources) {
    if (r.kind === 'Deployment') pods.push(...deploymentPods(r, dirOf(r)));
    else if (r.kind === 'Pod') pods.push(barePod(r, dirOf(r)));
    else if (['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'].includes(r.kind))
      notes.push(`${r.kind} ${r.metadata.name}: not run by mizzen up (use a Deployment or a Pod)`);
  }
  return { pods, notes };
}

function asRecord(v: unknown): Record<string, any> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {};
}

function deploymentPods(d: Resource, dir: string): PodPlan[] {
  const spec = asRecord(d['spec']);
  const template = asRecord(spec.template);
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const hash = podTemplateHash(template);
  const ns = d.metadata.namespace ?? 'default';
  const out: PodPlan[] = [];
  for (let i = 0; i < replicas; i++) {
    const name = `${d.metadata.name}-${hash}-${podSuffix(`${ns}/${d.metadata.name}/${hash}/${i}`)}`;
    out.push(
      podPlan({
        name,
        namespace: ns,
        workload: d.metadata.name,
        workloadKind: 'Deployment',
        meta: asRecord(template.metadata),
        spec: asRecord(template.spec),
        dir,
        templateHash: hash,
      }),
    );
  }
  return out;
}

function barePod(p: Resource, dir: string): PodPlan {
  return podPlan({
    name: p.metadata.name,
    namespace: p.metadata.namespace ?? 'default',
    workload: p.metadata.name,
    workloadKind: 'Pod',
    meta: p.metadata,
    spec: asRecord(p['spec']),
    dir,
  });
}

interface PodInput {
  name: string;
  namespace: string;
  workload: string;
  workloadKind: 'Deployment' | 'Pod';
  meta: Record<string, any>;
  spec: Record<string, any>;
  dir: string;
  templateHash?: string;
}

function podPlan(p: PodInput): PodPlan {
  const labels: Record<string, string> = { ...asRecord(p.meta.labels) };
  if (p.templateHash) labels['pod-template-hash'] = p.templateHash;
  const annotations: Record<string, string> = { ...asRecord(p.meta.annotations) };
  delete annotations[MANIFEST_DIR_ANNOTATION];
  const notes: string[] = [];
  const ports: ContainerPort[] = [];
  const containers: ContainerPlan[] = [];
  const podContainers: { name: string; ports: ContainerPort[] }[] = [];
  const specContainers = Array.isArray(p.spec.containers) ? (p.spec.containers as unknown[]) : [];
  for (const raw of specContainers) {
    const c = asRecord(raw);
    const cports = (Array.isArray(c.ports) ? (c.ports as unknown[]) : [])
      .map(asRecord)
      .filter((x) => typeof x.containerPort === 'number')
      .map((x) => portOf(x));
    ports.push(...cports);
    podContainers.push({ name: String(c.name ?? 'app'), ports: cports });
    const plan = containerPlan(c, p.dir, cports[0]?.containerPort);
    if (c.image)
      notes.push(
        `${p.name}/${c.name}: image ${c.image} ignored; runs ${plan ? 'its command locally' : 'nothing'}`,
      );
    if (plan) containers.push(plan);
    else
      notes.push(
        `${p.name}/${c.name}: no command in the manifest, so nothing runs for it (only its sidecar)`,
      );
  }
  if (Array.isArray(p.spec.initContainers) && p.spec.initContainers.length)
    notes.push(`${p.name}: initContainers are not run locally`);
  // Istio's injection templates (grpc-agent for proxyless gRPC) are not applied: say so, never ignore.
  const templates = annotations['inject.istio.io/templates'];
  if (templates !== undefined && templates !== 'sidecar')
    notes.push(
      `${p.name}: inject.istio.io/templates "${templates}" is not applied: mizzen up injects its sidecar; for proxyless gRPC run \`mizzen agent\` beside the app (docs/security.md)`,
    );
  const policy = p.workloadKind === 'Pod' ? p.spec.restartPolicy : undefined;
  const restartPolicy = policy === 'Never' || policy === 'OnFailure' ? policy : 'Always';
  const grace =
    typeof p.spec.terminationGracePeriodSeconds === 'number' ? p.spec.terminationGracePeriodSeconds : 30;
  const serviceAccount = String(p.spec.serviceAccountName ?? p.spec.serviceAccount ?? 'default');
  const sidecar =
    String(annotations['sidecar.istio.io/inject'] ?? labels['sidecar.istio.io/inject'] ?? '') !== 'false';
  return {
    name: p.name,
    namespace: p.namespace,
    workload: p.workload,
    workloadKind: p.workloadKind,
    labels,
    annotations,
    serviceAccount,
    sidecar,
    ports,
    podContainers,
    containers,
    ...(p.templateHash ? { templateHash: p.templateHash } : {}),
    gracePeriodSeconds: Math.min(Math.max(grace, 0), 30),
    restartPolicy,
    fingerprint: stableJson({
      labels,
      annotations,
      serviceAccount,
      ports,
      containers,
      restartPolicy,
      dir: p.dir,
    }),
    notes,
  };
}

function portOf(x: Record<string, any>): ContainerPort {
  const out: { containerPort: number; name?: string; protocol?: string } = { containerPort: x.containerPort };
  if (typeof x.name === 'string') out.name = x.name;
  if (typeof x.protocol === 'string') out.protocol = x.protocol;
  return out;
}

function containerPlan(
  c: Record<string, any>,
  dir: string,
  port: number | undefined,
): ContainerPlan | undefined {
  const command = Array.isArray(c.command) ? (c.command as unknown[]).map(String) : [];
  const args = Array.isArray(c.args) ? (c.args as unknown[]).map(String) : [];
  if (command.length === 0) return undefined;
  const cwd = typeof c.workingDir === 'string' && c.workingDir ? resolve(dir, c.workingDir) : dir;
  const env = (Array.isArray(c.env) ? (c.env as unknown[]) : [])
    .map(asRecord)
    .filter((e) => typeof e.name === 'string')
    .map((e) => {
      const out: { name: string; value?: string; valueFrom?: Record<string, any> } = { name: String(e.name) };
      if (e.value !== undefined) out.value = String(e.value);
      if (e.valueFrom) out.valueFrom = asRecord(e.valueFrom);
      return out;
    });
  return {
    name: String(c.name ?? 'app'),
    argv: [resolveExecutable(command[0], cwd), ...command.slice(1), ...args],
    cwd,
    env,
    ...(port !== undefined ? { port } : {}),
  };
}

/** `node` runs with this very Node; a relative path with a slash starts at the working directory; others use PATH. */
export function resolveExecutable(exe: string, cwd: string): string {
  if (exe === 'node' || exe === 'nodejs') return process.execPath;
  if (!isAbsolute(exe) && exe.includes('/')) return resolve(cwd, exe);
  return exe;
}
