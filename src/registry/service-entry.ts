// ServiceEntry hosts as mesh services: ports, resolution, location, inline endpoints or a workloadSelector.
import type { ServiceEntry, ServiceEntrySpec } from '../api/kinds/networking/service-entry.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { Endpoint, MeshService, Resolution, ServicePort, WorkloadInstance } from './model.js';
import type { BuiltService } from './kubernetes.js';
import { workloadEndpoint } from './kubernetes.js';
import { parseProtocol } from './protocol.js';
import { selects } from './labels.js';
import { localityFromLabels, NO_LOCALITY, parseLocality } from './locality.js';
import { parseExportTo } from './export-to.js';

/** Builds one mesh service per host of every ServiceEntry. */
export function buildServiceEntries(
  snapshot: ConfigSnapshot,
  workloads: readonly WorkloadInstance[],
): BuiltService[] {
  const out: BuiltService[] = [];
  for (const r of snapshot.byKind('ServiceEntry')) {
    const spec: ServiceEntrySpec = (r as ServiceEntry).spec ?? { hosts: [] };
    const ns = r.metadata.namespace ?? 'default';
    const resolution: Resolution = spec.resolution ?? 'NONE';
    const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.number,
      protocol: parseProtocol(p.protocol),
    }));
    const exportTo = parseExportTo(spec.exportTo, ns);
    for (const rawHost of spec.hosts ?? []) {
      const hostname = rawHost.toLowerCase();
      const service: MeshService = {
        hostname,
        namespace: ns,
        name: r.metadata.name,
        source: 'ServiceEntry',
        ports,
        resolution,
        location: spec.location ?? 'MESH_EXTERNAL',
        addresses: spec.addresses ?? [],
        exportTo,
        labels: r.metadata.labels ?? {},
      };
      const endpoints = new Map<number, Endpoint[]>();
      for (const p of spec.ports ?? [])
        endpoints.set(p.number, portEndpoints(spec, hostname, ns, p, workloads));
      out.push({ service, endpoints });
    }
  }
  return out;
}

function portEndpoints(
  spec: ServiceEntrySpec,
  hostname: string,
  ns: string,
  p: { number: number; name?: string; targetPort?: number },
  workloads: readonly WorkloadInstance[],
): Endpoint[] {
  const fallback = p.targetPort ?? p.number;
  if (spec.workloadSelector) {
    const out: Endpoint[] = [];
    for (const w of workloads) {
      if (w.namespace !== ns || !selects(spec.workloadSelector.labels, w.labels)) continue;
      const port = (p.name && w.kind === 'WorkloadEntry' ? w.namedPorts.get(p.name) : undefined) ?? fallback;
      out.push(workloadEndpoint(w, port));
    }
    return out;
  }
  if (spec.endpoints) {
    return spec.endpoints
      .filter((e) => e.address)
      .map((e) => ({
        address: e.address!,
        port: (p.name ? e.ports?.[p.name] : undefined) ?? fallback,
        labels: e.labels ?? {},
        locality: e.locality ? parseLocality(e.locality) : (localityFromLabels(e.labels) ?? NO_LOCALITY),
        weight: e.weight && e.weight > 0 ? e.weight : 1,
        healthy: true,
        namespace: ns,
        workloadName: '',
        serviceAccount: e.serviceAccount ?? '',
      }));
  }
  const dns = spec.resolution === 'DNS' || spec.resolution === 'DNS_ROUND_ROBIN';
  if (dns && !hostname.includes('*')) {
    return [
      {
        address: hostname,
        port: fallback,
        labels: {},
        locality: NO_LOCALITY,
        weight: 1,
        healthy: true,
        namespace: ns,
        workloadName: '',
        serviceAccount: '',
      },
    ];
  }
  return [];
}
