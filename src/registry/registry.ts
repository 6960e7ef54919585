// The service registry built from one config snapshot: services by host, endpoints by host and port, workloads.
import type { ConfigSnapshot } from '../config/store.js';
import type { Endpoint, MeshService, ServicePort, WorkloadInstance } from './model.js';
import { buildWorkloads } from './workloads.js';
import { buildKubeServices, type BuiltService } from './kubernetes.js';
import { buildServiceEntries } from './service-entry.js';
import { visibleFrom } from './export-to.js';

const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

/** A service port a workload serves, for building its inbound listeners and clusters. */
export interface InboundPort {
  readonly service: MeshService;
  readonly servicePort: ServicePort;
  /** The port the workload listens on (the target port). */
  readonly targetPort: number;
}

/** An immutable registry: every mesh service, its endpoints, and every workload instance. */
export class ServiceRegistry {
  /** Every service, Kubernetes Services first, then ServiceEntry hosts, each sorted by host. */
  readonly services: readonly MeshService[];
  /** Every workload instance (Pods with an IP, WorkloadEntries). */
  readonly workloads: readonly WorkloadInstance[];
  private readonly byHost = new Map<string, MeshService[]>();
  private readonly endpointsByKey = new Map<string, readonly Endpoint[]>();
  private readonly workloadsByAddress = new Map<string, WorkloadInstance[]>();
  private byEndpointAddress: Map<string, IndexedEndpoint[]> | null = null;
  private readonly inboundMemo = new Map<string, readonly InboundPort[]>();

  constructor(built: readonly BuiltService[], workloads: readonly WorkloadInstance[]) {
    const services: MeshService[] = [];
    for (const b of built) {
      const svc = b.service;
      let l = this.byHost.get(svc.hostname);
      if (!l) this.byHost.set(svc.hostname, (l = []));
      l.push(svc);
      services.push(svc);
      for (const [port, eps] of b.endpoints) this.endpointsByKey.set(key(svc, port), Object.freeze([...eps]));
    }
    this.services = Object.freeze(services);
    this.workloads = Object.freeze([...workloads]);
    for (const w of workloads) {
      let l = this.workloadsByAddress.get(w.address);
      if (!l) this.workloadsByAddress.set(w.address, (l = []));
      l.push(w);
    }
  }

  /** Services named `hostname`, any namespace (several ServiceEntries may define one host). */
  servicesByHost(hostname: string): readonly MeshService[] {
    return this.byHost.get(hostname) ?? [];
  }

  /**
   * The service `hostname` as seen from namespace `from`: the definition in `from` itself first, then
   * the first one exported to it. Undefined when none is visible.
   */
  service(hostname: string, from?: string): MeshService | undefined {
    const l = this.byHost.get(hostname);
    if (!l) return undefined;
    if (from === undefined) return l[0];
    return l.find((s) => s.namespace === from) ?? l.find((s) => visibleFrom(s.exportTo, from));
  }

  /** The endpoints behind one port of a service (empty when none). */
  endpoints(service: MeshService, port: number): readonly Endpoint[] {
    return this.endpointsByKey.get(key(service, port)) ?? NO_ENDPOINTS;
  }

  /** Workload instances at an address (a Pod IP may be reused by a WorkloadEntry). */
  workloadsAt(address: string): readonly WorkloadInstance[] {
    return this.workloadsByAddress.get(address) ?? [];
  }

  /** The workload a proxy fronts: by namespace/name when given, else by IP. */
  findWorkload(ip: string, namespace?: string, name?: string): WorkloadInstance | undefined {
    if (name) {
      const byName = this.workloads.find((w) => w.name === name && (!namespace || w.namespace === namespace));
      if (byName) return byName;
    }
    const at = this.workloadsAt(ip);
    return at.find((w) => !namespace || w.namespace === namespace) ?? at[0];
  }

  /**
   * The service ports served by the workload at `address` in `namespace` (by name when several
   * workloads share the address): every service whose endpoints include it, in service then port
   * order. Read through an index by endpoint address (built on first use; the registry is immutable)
   * and remembered per workload: every proxy's inbound listeners, clusters and telemetry ask it on
   * every push, and scanning every service's endpoints made that quadratic in the mesh's size.
   */
  inboundPorts(address: string, namespace: string, workloadName?: string): readonly InboundPort[] {
    const memoKey = `${address}|${namespace}|${workloadName ?? ''}`;
    const memo = this.inboundMemo.get(memoKey);
    if (memo) return memo;
    const out: InboundPort[] = [];
    const seen = new Set<string>();
    for (const c of this.endpointIndex().get(address) ?? []) {
      const { service: svc, servicePort: sp, endpoint: e } = c;
      if (svc.namespace !== namespace && svc.source === 'Service') continue;
      if (!(e.namespace === namespace || e.namespace === '')) continue;
      if (workloadName && e.workloadName && e.workloadName !== workloadName) continue;
      const k = `${svc.hostname}|${sp.port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ service: svc, servicePort: sp, targetPort: e.port });
    }
    const frozen = Object.freeze(out);
    this.inboundMemo.set(memoKey, frozen);
    return frozen;
  }

  /** Every (service, port, endpoint) by endpoint address, in service, port and endpoint order. */
  private endpointIndex(): ReadonlyMap<string, readonly IndexedEndpoint[]> {
    if (this.byEndpointAddress) return this.byEndpointAddress;
    const index = new Map<string, IndexedEndpoint[]>();
    for (const service of this.services)
      for (const servicePort of service.ports)
        for (const endpoint of this.endpoints(service, servicePort.port)) {
          let l = index.get(endpoint.address);
          if (!l) index.set(endpoint.address, (l = []));
          l.push({ service, servicePort, endpoint });
        }
    this.byEndpointAddress = index;
    return index;
  }
}

/** One endpoint of one service port, as indexed by its address. */
interface IndexedEndpoint {
  readonly service: MeshService;
  readonly servicePort: ServicePort;
  readonly endpoint: Endpoint;
}

function key(svc: MeshService, port: number): string {
  return `${svc.namespace}/${svc.hostname}|${port}`;
}

/** Builds the registry for a snapshot. */
export function buildRegistry(snapshot: ConfigSnapshot): ServiceRegistry {
  const workloads = buildWorkloads(snapshot);
  const built = [...buildKubeServices(snapshot, workloads), ...buildServiceEntries(snapshot, workloads)];
  built.sort((a, b) =>
    a.service.source === b.service.source
      ? a.service.hostname < b.service.hostname
        ? -1
        : a.service.hostname > b.service.hostname
          ? 1
          : 0
      : a.service.source === 'Service'
        ? -1
        : 1,
  );
  return new ServiceRegistry(built, workloads);
}
