// The shared index every analyzer reads: workloads, services and config by kind, built once per run.
import type { Resource } from '../api/resource.js';
import type { Pod } from '../api/kinds/kubernetes/pod.js';
import type { PodTemplateSpec } from '../api/kinds/kubernetes/deployment.js';
import type { KubeService } from '../api/kinds/kubernetes/service.js';
import type { WorkloadEntrySpec } from '../api/kinds/networking/workload-entry.js';
import type { ServiceEntrySpec } from '../api/kinds/networking/service-entry.js';
import { CLUSTER_DOMAIN, hostMatches, isWildcard, visibleFrom } from './hosts.js';
import { selects } from './labels.js';

/** Istio's root namespace: policies there apply mesh-wide. */
export const ROOT_NAMESPACE = 'istio-system';

/** Labels of the ingress gateway `mizzen up` always runs (Istio's default ingress gateway labels). */
export const BUILTIN_INGRESS_LABELS: Readonly<Record<string, string>> = {
  istio: 'ingressgateway',
  app: 'istio-ingressgateway',
};

/** One workload (a pod, or the pods a controller's template makes, or a WorkloadEntry). */
export interface Workload {
  /** The resource that declares it; absent for the built-in ingress gateway. */
  readonly resource?: Resource;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Ports the workload listens on, with their container port names. */
  readonly ports: readonly { readonly number: number; readonly name?: string }[];
}

/** One port of a service. */
export interface MeshServicePort {
  readonly number: number;
  readonly name?: string;
  /** ServiceEntry protocol or Kubernetes transport protocol. */
  readonly protocol?: string;
  /** Kubernetes targetPort (number or container port name); absent = same as number. */
  readonly targetPort?: number | string;
}

/** A service: a Kubernetes Service or a ServiceEntry. */
export interface MeshService {
  readonly resource: Resource;
  readonly namespace: string;
  /** FQDNs it answers for (ServiceEntry hosts may be wildcards). */
  readonly hosts: readonly string[];
  readonly ports: readonly MeshServicePort[];
  /** Labels of the workloads behind it (Service selector, ServiceEntry workloadSelector). */
  readonly selector?: Readonly<Record<string, string>>;
  /** Labels of a ServiceEntry's static endpoints. */
  readonly endpointLabels?: readonly Readonly<Record<string, string>>[];
  readonly exportTo?: readonly string[];
}

const CONTROLLERS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** Every resource of the run, indexed for the questions analyzers ask. */
export class MeshIndex {
  readonly workloads: readonly Workload[];
  readonly services: readonly MeshService[];
  /** True when the input declares any workload; selector checks are skipped otherwise. */
  readonly hasWorkloads: boolean;
  /** True when the input declares any Service or ServiceEntry; host checks are skipped otherwise. */
  readonly hasServices: boolean;
  private readonly kinds = new Map<string, Resource[]>();
  private readonly named = new Map<string, Resource>();

  constructor(readonly resources: readonly Resource[]) {
    for (const r of resources) {
      let list = this.kinds.get(r.kind);
      if (!list) this.kinds.set(r.kind, (list = []));
      list.push(r);
      this.named.set(`${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, r);
    }
    const workloads = resources.flatMap(workloadsOf);
    this.hasWorkloads = workloads.length > 0;
    workloads.push({
      kind: 'ingress gateway',
      name: 'istio-ingressgateway',
      namespace: ROOT_NAMESPACE,
      labels: BUILTIN_INGRESS_LABELS,
      ports: [],
    });
    this.workloads = workloads;
    this.services = [
      ...this.ofKind('Service').map((r) => kubeService(r as KubeService)),
      ...this.ofKind('ServiceEntry').map(serviceEntry),
    ];
    this.hasServices = this.services.length > 0;
  }

  /** Resources of one kind, in load order. */
  ofKind(kind: string): Resource[] {
    return this.kinds.get(kind) ?? [];
  }

  /** A resource by kind, namespace and name. */
  find(kind: string, namespace: string, name: string): Resource | undefined {
    return this.named.get(`${kind}/${namespace}/${name}`);
  }

  /** The service that answers for the concrete or wildcard FQDN `host`, as seen from namespace `from`. */
  findService(host: string, from: string): MeshService | undefined {
    let wildcard: MeshService | undefined;
    for (const s of this.services) {
      if (!visibleFrom(s.namespace, s.exportTo, from)) continue;
      for (const h of s.hosts) {
        if (h === host) return s;
        if (!wildcard && isWildcard(h) && hostMatches(h, host)) wildcard = s;
      }
    }
    return wildcard;
  }

  /** Services with a host that `pattern` (concrete or wildcard) covers. */
  servicesMatching(pattern: string): MeshService[] {
    return this.services.filter((s) => s.hosts.some((h) => hostMatches(pattern, h)));
  }

  /** Workloads in `namespace` (every namespace when undefined) whose labels satisfy `selector`. */
  workloadsSelected(selector: Readonly<Record<string, string>> | undefined, namespace?: string): Workload[] {
    return this.workloads.filter(
      (w) => (namespace === undefined || w.namespace === namespace) && selects(selector, w.labels),
    );
  }

  /**
   * Workloads behind a service, optionally narrowed by extra labels (a subset's); undefined when the
   * service names none by labels (a ServiceEntry for an external host, a Service without selector).
   */
  serviceWorkloads(s: MeshService, extra?: Readonly<Record<string, string>>): Workload[] | undefined {
    if (!s.selector) return undefined;
    return this.workloadsSelected({ ...s.selector, ...extra }, s.namespace);
  }
}

function workloadsOf(r: Resource): Workload[] {
  const namespace = r.metadata.namespace ?? 'default';
  const base = { resource: r, kind: r.kind, name: r.metadata.name, namespace };
  if (r.kind === 'Pod') {
    const p = r as Pod;
    return [{ ...base, labels: r.metadata.labels ?? {}, ports: containerPorts(p.spec?.containers) }];
  }
  if (CONTROLLERS.has(r.kind)) {
    const t = (r.spec as { template?: PodTemplateSpec } | undefined)?.template;
    return [{ ...base, labels: t?.metadata?.labels ?? {}, ports: containerPorts(t?.spec?.containers) }];
  }
  if (r.kind === 'WorkloadEntry') {
    const s = (r.spec ?? {}) as WorkloadEntrySpec;
    const ports = Object.entries(s.ports ?? {}).map(([name, number]) => ({ name, number }));
    return [{ ...base, labels: s.labels ?? {}, ports }];
  }
  return [];
}

function containerPorts(
  containers: readonly { ports?: readonly { containerPort: number; name?: string }[] }[] | undefined,
): { number: number; name?: string }[] {
  const out: { number: number; name?: string }[] = [];
  for (const c of containers ?? []) {
    for (const p of c.ports ?? []) out.push({ number: p.containerPort, ...(p.name ? { name: p.name } : {}) });
  }
  return out;
}

function kubeService(r: KubeService): MeshService {
  const namespace = r.metadata.namespace ?? 'default';
  const spec = r.spec ?? {};
  const exportTo = r.metadata.annotations?.['networking.istio.io/exportTo']
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    resource: r,
    namespace,
    hosts: [`${r.metadata.name}.${namespace}.svc.${CLUSTER_DOMAIN}`],
    ports: (spec.ports ?? []).map((p) => ({
      number: p.port,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
    })),
    ...(spec.selector && Object.keys(spec.selector).length > 0 ? { selector: spec.selector } : {}),
    ...(exportTo && exportTo.length > 0 ? { exportTo } : {}),
  };
}

function serviceEntry(r: Resource): MeshService {
  const namespace = r.metadata.namespace ?? 'default';
  const s = (r.spec ?? {}) as ServiceEntrySpec;
  const ws = s.workloadSelector?.labels;
  return {
    resource: r,
    namespace,
    hosts: (s.hosts ?? []).map((h) => h.toLowerCase()),
    ports: (s.ports ?? [])
      .filter((p) => typeof p.number === 'number')
      .map((p) => ({
        number: p.number,
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      })),
    ...(ws && Object.keys(ws).length > 0 ? { selector: ws } : {}),
    ...(s.endpoints && s.endpoints.length > 0
      ? { endpointLabels: s.endpoints.map((e) => e.labels ?? {}) }
      : {}),
    ...(s.exportTo ? { exportTo: s.exportTo } : {}),
  };
}
