// PushContext: one immutable snapshot plus the indexes every generator reads (Istio's PushContext).
import type { ConfigSnapshot } from '../config/store.js';
import type { VirtualService } from '../api/kinds/networking/virtual-service.js';
import type { DestinationRule } from '../api/kinds/networking/destination-rule.js';
import { buildRegistry, type ServiceRegistry } from '../registry/registry.js';
import { resolveHost } from '../registry/host.js';
import { parseExportTo } from '../registry/export-to.js';
import type { DnsCache } from '../registry/dns.js';
import type { Gateway } from '../api/kinds/networking/gateway.js';
import type { Sidecar } from '../api/kinds/networking/sidecar.js';
import { meshConfigOf, type MeshConfig } from './mesh-config.js';
import { indexPeerAuthentications, type PeerAuthnIndex } from './peer-authentication.js';

/** A VirtualService with its hosts and gateways resolved. */
export interface VirtualServiceEntry {
  readonly resource: VirtualService;
  readonly namespace: string;
  readonly name: string;
  /** Hosts resolved in the VirtualService's namespace (FQDNs, external names, wildcards). */
  readonly hosts: readonly string[];
  /** `mesh` and/or `namespace/name` of Gateways. */
  readonly gateways: ReadonlySet<string>;
  readonly exportTo: ReadonlySet<string>;
}

/** A DestinationRule with its host resolved. */
export interface DestinationRuleEntry {
  readonly resource: DestinationRule;
  readonly namespace: string;
  readonly host: string;
  readonly exportTo: ReadonlySet<string>;
}

/** Everything the generators read, built once per config (and DNS) version. */
export interface PushContext {
  /** Config snapshot version this context was built from. */
  readonly version: number;
  readonly snapshot: ConfigSnapshot;
  readonly registry: ServiceRegistry;
  readonly mesh: MeshConfig;
  /** VirtualServices with hosts (routing roots), in snapshot order. */
  readonly virtualServices: readonly VirtualServiceEntry[];
  /** Every VirtualService by `namespace/name` (delegates included). */
  readonly virtualServicesByName: ReadonlyMap<string, VirtualServiceEntry>;
  /** DestinationRules by resolved host (exact or wildcard). */
  readonly destinationRules: ReadonlyMap<string, readonly DestinationRuleEntry[]>;
  readonly gateways: readonly Gateway[];
  readonly sidecars: readonly Sidecar[];
  /** Resolved addresses of DNS hosts (proxyless gRPC gets IPs over EDS); null when not resolving. */
  readonly dns: DnsCache | null;
  /** PeerAuthentications: the mTLS mode of each workload port. */
  readonly peerAuthn: PeerAuthnIndex;
}

/** Resolves a VirtualService's gateway reference (`name`, `ns/name`, `name.ns.svc.cluster.local`). */
export function resolveGatewayRef(ref: string, namespace: string): string {
  if (ref === 'mesh') return 'mesh';
  if (ref.includes('/')) return ref;
  const dot = ref.indexOf('.');
  if (dot > 0) {
    const [name, ns] = ref.split('.');
    return `${ns}/${name}`;
  }
  return `${namespace}/${ref}`;
}

/** Kinds the service registry is built from. */
const REGISTRY_KINDS = new Set([
  'Service',
  'Pod',
  'Endpoints',
  'EndpointSlice',
  'WorkloadEntry',
  'WorkloadGroup',
  'ServiceEntry',
  'Node',
]);

/**
 * Builds the push context for a snapshot. With `previous` and the kinds that changed since, indexes
 * whose kinds did not change are reused (an endpoint-only change rebuilds just the registry).
 */
export function buildPushContext(
  snapshot: ConfigSnapshot,
  dns: DnsCache | null = null,
  previous?: PushContext,
  changed?: ReadonlySet<string>,
): PushContext {
  const reuse = (kinds: string[] | ReadonlySet<string>): boolean =>
    previous !== undefined && changed !== undefined && ![...kinds].some((k) => changed.has(k));
  const registry = reuse(REGISTRY_KINDS) ? previous!.registry : buildRegistry(snapshot);
  const vs = reuse(['VirtualService']) ? previous! : indexVirtualServices(snapshot);
  if (dns && registry !== previous?.registry) {
    const names: string[] = [];
    for (const svc of registry.services) {
      if (svc.resolution !== 'DNS' && svc.resolution !== 'DNS_ROUND_ROBIN') continue;
      for (const p of svc.ports) for (const e of registry.endpoints(svc, p.port)) names.push(e.address);
    }
    dns.want(names);
  }
  const mesh = reuse(['ConfigMap']) ? previous!.mesh : meshConfigOf(snapshot);
  return {
    version: snapshot.version,
    snapshot,
    registry,
    mesh,
    virtualServices: vs.virtualServices,
    virtualServicesByName: vs.virtualServicesByName,
    destinationRules: reuse(['DestinationRule'])
      ? previous!.destinationRules
      : indexDestinationRules(snapshot),
    gateways: snapshot.byKind('Gateway') as Gateway[],
    sidecars: snapshot.byKind('Sidecar') as Sidecar[],
    dns,
    peerAuthn: reuse(['PeerAuthentication', 'ConfigMap'])
      ? previous!.peerAuthn
      : indexPeerAuthentications(snapshot, mesh.rootNamespace),
  };
}

function indexVirtualServices(
  snapshot: ConfigSnapshot,
): Pick<PushContext, 'virtualServices' | 'virtualServicesByName'> {
  const virtualServices: VirtualServiceEntry[] = [];
  const byName = new Map<string, VirtualServiceEntry>();
  for (const r of snapshot.byKind('VirtualService')) {
    const vs = r as VirtualService;
    const ns = vs.metadata.namespace ?? 'default';
    const spec = vs.spec ?? {};
    const gws = spec.gateways && spec.gateways.length > 0 ? spec.gateways : ['mesh'];
    const entry: VirtualServiceEntry = {
      resource: vs,
      namespace: ns,
      name: vs.metadata.name,
      hosts: (spec.hosts ?? []).map((h) => resolveHost(h, ns)),
      gateways: new Set(gws.map((g) => resolveGatewayRef(g, ns))),
      exportTo: parseExportTo(spec.exportTo, ns),
    };
    byName.set(`${ns}/${vs.metadata.name}`, entry);
    if (entry.hosts.length > 0) virtualServices.push(entry);
  }
  return { virtualServices, virtualServicesByName: byName };
}

function indexDestinationRules(snapshot: ConfigSnapshot): Map<string, DestinationRuleEntry[]> {
  const destinationRules = new Map<string, DestinationRuleEntry[]>();
  for (const r of snapshot.byKind('DestinationRule')) {
    const dr = r as DestinationRule;
    const ns = dr.metadata.namespace ?? 'default';
    if (!dr.spec?.host) continue;
    const host = resolveHost(dr.spec.host, ns);
    let l = destinationRules.get(host);
    if (!l) destinationRules.set(host, (l = []));
    l.push({ resource: dr, namespace: ns, host, exportTo: parseExportTo(dr.spec.exportTo, ns) });
  }
  return destinationRules;
}
