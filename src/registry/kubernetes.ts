// Kubernetes Services as mesh services, with endpoints from selected workloads or Endpoints/EndpointSlices.
import type { KubeService, ServicePort as KubePort } from '../api/kinds/kubernetes/service.js';
import type { Endpoints } from '../api/kinds/kubernetes/endpoints.js';
import type { EndpointSlice } from '../api/kinds/kubernetes/endpoint-slice.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { Endpoint, MeshService, ServicePort, WorkloadInstance } from './model.js';
import { servicePortProtocol } from './protocol.js';
import { kubeServiceHost } from './host.js';
import { selects } from './labels.js';
import { NO_LOCALITY } from './locality.js';
import { parseExportTo } from './export-to.js';

/** A mesh service with its endpoints per service port number. */
export interface BuiltService {
  readonly service: MeshService;
  readonly endpoints: ReadonlyMap<number, readonly Endpoint[]>;
}

/** Builds every Kubernetes Service of the snapshot. */
export function buildKubeServices(
  snapshot: ConfigSnapshot,
  workloads: readonly WorkloadInstance[],
): BuiltService[] {
  const slices = new Map<string, EndpointSlice[]>();
  for (const r of snapshot.byKind('EndpointSlice')) {
    const svc = r.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${r.metadata.namespace ?? 'default'}/${svc}`;
    let l = slices.get(key);
    if (!l) slices.set(key, (l = []));
    l.push(r as EndpointSlice);
  }
  const out: BuiltService[] = [];
  for (const r of snapshot.byKind('Service')) {
    const svc = r as KubeService;
    const ns = svc.metadata.namespace ?? 'default';
    const spec = svc.spec ?? {};
    const kubePorts = spec.ports ?? [];
    const ports: ServicePort[] = kubePorts.map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: servicePortProtocol(p.name, p.appProtocol, p.protocol),
    }));
    const external = spec.type === 'ExternalName' && spec.externalName;
    const annotations = svc.metadata.annotations ?? {};
    const service: MeshService = {
      hostname: kubeServiceHost(svc.metadata.name, ns),
      namespace: ns,
      name: svc.metadata.name,
      source: 'Service',
      ports,
      resolution: external ? 'DNS' : spec.clusterIP === 'None' ? 'NONE' : 'STATIC',
      location: 'MESH_INTERNAL',
      addresses: spec.clusterIP && spec.clusterIP !== 'None' ? [spec.clusterIP] : [],
      exportTo: parseExportTo(annotations['networking.istio.io/exportTo']?.split(','), ns),
      labels: svc.metadata.labels ?? {},
    };
    const endpoints = new Map<number, Endpoint[]>();
    for (const p of kubePorts) {
      let eps: Endpoint[];
      if (external) eps = [dnsEndpoint(spec.externalName!, p.port)];
      else if (spec.selector && Object.keys(spec.selector).length > 0)
        eps = selectedEndpoints(spec.selector, ns, p, workloads);
      else {
        const sl = slices.get(`${ns}/${svc.metadata.name}`);
        eps = sl
          ? sliceEndpoints(sl, p, workloads)
          : endpointsObject(
              snapshot.get('Endpoints', ns, svc.metadata.name) as Endpoints | undefined,
              p,
              workloads,
            );
      }
      endpoints.set(p.port, eps);
    }
    out.push({ service, endpoints });
  }
  return out;
}

/** Endpoints of the workloads in `ns` whose labels the selector selects. */
function selectedEndpoints(
  selector: Record<string, string>,
  ns: string,
  port: KubePort,
  workloads: readonly WorkloadInstance[],
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const w of workloads) {
    if (w.namespace !== ns || !selects(selector, w.labels)) continue;
    const target = targetPortOf(w, port);
    if (target === null) continue;
    out.push(workloadEndpoint(w, target));
  }
  return out;
}

/** The workload's port for a service port: WorkloadEntry `ports[name]`, named or numeric targetPort, or the port. */
function targetPortOf(w: WorkloadInstance, port: KubePort): number | null {
  if (w.kind === 'WorkloadEntry' && port.name && w.namedPorts.has(port.name))
    return w.namedPorts.get(port.name)!;
  const t = port.targetPort;
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && t !== '') {
    if (/^\d+$/.test(t)) return Number(t);
    return w.namedPorts.get(t) ?? null;
  }
  return port.port;
}

/** An endpoint for a workload instance listening on `port`. */
export function workloadEndpoint(w: WorkloadInstance, port: number): Endpoint {
  return {
    address: w.address,
    port,
    labels: w.labels,
    locality: w.locality,
    weight: w.weight,
    healthy: w.healthy,
    namespace: w.namespace,
    workloadName: w.name,
    serviceAccount: w.serviceAccount,
  };
}

function dnsEndpoint(host: string, port: number): Endpoint {
  return {
    address: host,
    port,
    labels: {},
    locality: NO_LOCALITY,
    weight: 1,
    healthy: true,
    namespace: '',
    workloadName: '',
    serviceAccount: '',
  };
}

/** The workload behind an address, for labels and locality (Endpoints carry only IPs). */
function byAddress(workloads: readonly WorkloadInstance[], ns: string): Map<string, WorkloadInstance> {
  const m = new Map<string, WorkloadInstance>();
  for (const w of workloads) if (w.namespace === ns) m.set(w.address, w);
  return m;
}

function addressEndpoint(
  ip: string,
  port: number,
  healthy: boolean,
  w: WorkloadInstance | undefined,
): Endpoint {
  if (w) return { ...workloadEndpoint(w, port), healthy };
  return { ...dnsEndpoint(ip, port), healthy };
}

/** Endpoints from a v1 Endpoints object (services without a selector). */
function endpointsObject(
  eps: Endpoints | undefined,
  port: KubePort,
  workloads: readonly WorkloadInstance[],
): Endpoint[] {
  if (!eps) return [];
  const known = byAddress(workloads, eps.metadata.namespace ?? 'default');
  const out: Endpoint[] = [];
  for (const s of eps.subsets ?? []) {
    const p =
      (s.ports ?? []).find((x) => (x.name ?? '') === (port.name ?? '')) ??
      (s.ports?.length === 1 ? s.ports[0] : undefined);
    if (!p) continue;
    for (const a of s.addresses ?? []) out.push(addressEndpoint(a.ip, p.port, true, known.get(a.ip)));
    for (const a of s.notReadyAddresses ?? [])
      out.push(addressEndpoint(a.ip, p.port, false, known.get(a.ip)));
  }
  return out;
}

/** Endpoints from EndpointSlices labelled with the service's name. */
function sliceEndpoints(
  slices: EndpointSlice[],
  port: KubePort,
  workloads: readonly WorkloadInstance[],
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const sl of slices) {
    const known = byAddress(workloads, sl.metadata.namespace ?? 'default');
    const p = (sl.ports ?? []).find((x) => (x.name ?? '') === (port.name ?? ''));
    if (!p) continue;
    const num = p.port ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
    for (const e of sl.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip) continue;
      const healthy = e.conditions?.ready !== false;
      const ep = addressEndpoint(ip, num, healthy, known.get(ip));
      out.push(e.zone && !ep.locality.zone ? { ...ep, locality: { ...ep.locality, zone: e.zone } } : ep);
    }
  }
  return out;
}
