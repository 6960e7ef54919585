// The destination side of an explained request: which workloads a cluster's endpoints are, whether the
// source's connection to each is Istio mutual TLS, the proxy that fronts it, and the inbound filter
// chain of that proxy (as pilot generates it and the proxy decodes it) that takes the connection.
import { decodeResource, encodeResource } from '../../xds/protos.js';
import { structToJson, type CanonicalStruct } from '../../xds/struct.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { WorkloadInstance } from '../../registry/model.js';
import { TRANSPORT_SOCKET_MATCH } from '../cluster-tls.js';
import type { Envoy } from '../envoy.js';
import type { Generator, ProxyRef } from '../generator.js';
import { WORKLOAD_SECRET } from '../istio-mutual.js';
import { parseProxy } from '../proxy.js';
import type { PushContext } from '../push-context.js';
import { arr, obj } from './shape.js';

/** One endpoint of a cluster that is a mesh workload. */
export interface DestinationEndpoint {
  readonly cluster: string;
  readonly address: string;
  readonly port: number;
  readonly workload: WorkloadInstance;
  /** True when the source's sidecar opens Istio mutual TLS to it. */
  readonly mtls: boolean;
  /** SNI the source sends (mutual TLS only; '' otherwise). */
  readonly sni: string;
}

/** Whether a cluster's transport socket is Istio mutual TLS (the workload certificate over SDS). */
function isIstioMutual(ts: Envoy): boolean {
  const ctx = obj(obj(ts.typedConfig).commonTlsContext);
  return arr(ctx.tlsCertificateSdsSecretConfigs).some((s) => s.name === WORKLOAD_SECRET);
}

/** The endpoints of cluster `name` (as sent to the source proxy) that are workloads in the registry. */
export function destinationEndpoints(
  gen: Generator,
  push: PushContext,
  ref: ProxyRef,
  name: string,
): DestinationEndpoint[] {
  const [c] = gen.generate(ref, TypeUrl.CLUSTER, [name]);
  if (!c) return [];
  const type = String(c.type ?? (c.clusterType ? 'CUSTOM' : 'EDS'));
  const edsName = String(obj(c.edsClusterConfig).serviceName ?? name);
  const cla = type === 'EDS' ? gen.generate(ref, TypeUrl.ENDPOINT, [edsName])[0] : c.loadAssignment;
  const autoMtls = arr(c.transportSocketMatches).find(
    (m) => structToJson(m.match as CanonicalStruct).tlsMode === 'istio',
  );
  const explicit = c.transportSocket ? obj(c.transportSocket) : null;
  const out: DestinationEndpoint[] = [];
  for (const le of arr(obj(cla).endpoints))
    for (const lb of arr(le.lbEndpoints)) {
      const sa = obj(obj(obj(lb.endpoint).address).socketAddress);
      const address = String(sa.address ?? '');
      const workload = push.registry.workloadsAt(address)[0];
      if (!workload) continue;
      const md = obj(obj(lb.metadata).filterMetadata)[TRANSPORT_SOCKET_MATCH] as CanonicalStruct | undefined;
      const socket =
        autoMtls && md && structToJson(md).tlsMode === 'istio' ? obj(autoMtls.transportSocket) : explicit;
      const mtls = socket !== null && isIstioMutual(socket);
      out.push({
        cluster: name,
        address,
        port: Number(sa.portValue ?? 0),
        workload,
        mtls,
        sni: mtls ? String(obj(socket.typedConfig).sni ?? '') : '',
      });
    }
  return out;
}

/** The connected proxy at the workload's address, else the one pilot would serve a sidecar there. */
export function proxyOf(
  w: WorkloadInstance,
  proxies: readonly ProxyRef[] | undefined,
  source: ProxyRef,
): { ref: ProxyRef; connected: boolean } {
  for (const p of proxies ?? []) {
    const parsed = parseProxy(p);
    if (parsed.type === 'sidecar' && parsed.ips.includes(w.address) && parsed.namespace === w.namespace)
      return { ref: p, connected: true };
  }
  const metadata: Record<string, unknown> = {
    NAMESPACE: w.namespace,
    INSTANCE_IPS: w.address,
    LABELS: { ...w.labels },
  };
  // Local mode or not: the mesh runs its sidecars one way, so the source's mode is the best guess.
  const mode = source.metadata?.INTERCEPTION_MODE;
  if (typeof mode === 'string') metadata.INTERCEPTION_MODE = mode;
  const id = `sidecar~${w.address}~${w.name}.${w.namespace}~${w.namespace}.svc.cluster.local`;
  return { ref: { id, metadata, node: { id } }, connected: false };
}

/** The inbound chain that takes the connection, decoded as the proxy receives it. */
export interface InboundChain {
  readonly listener: string;
  readonly chain: string;
  /** The chain's network filters (canonical JSON). */
  readonly filters: readonly Envoy[];
}

function portOf(l: Envoy): number {
  return Number(obj(obj(l.address).socketAddress).portValue ?? -1);
}

/**
 * The inbound filter chain of `ref` for a connection to `ip:port`, plaintext or Istio mutual TLS, as
 * Envoy's filter chain match picks it (destination port first, then transport protocol); null when
 * none takes it (no sidecar, or STRICT mTLS refusing plaintext).
 */
export function inboundChain(
  gen: Generator,
  ref: ProxyRef,
  ip: string,
  port: number,
  mtls: boolean,
): InboundChain | null {
  const inbound = gen
    .generate(ref, TypeUrl.LISTENER, [])
    .filter((l) => l.trafficDirection === 'INBOUND')
    .filter((l) => {
      const addr = String(obj(obj(l.address).socketAddress).address ?? '');
      return l.name === 'virtualInbound' || (portOf(l) === port && (addr === ip || addr === '0.0.0.0'));
    });
  for (const l of inbound) {
    const chains = arr(l.filterChains).map((c, i) => ({ c, i, m: obj(c.filterChainMatch) }));
    const portOfChain = (m: Envoy): number | undefined =>
      m.destinationPort === undefined ? undefined : Number(obj(m.destinationPort).value ?? m.destinationPort);
    const exact = chains.filter((x) => portOfChain(x.m) === port);
    const candidates = exact.length > 0 ? exact : chains.filter((x) => portOfChain(x.m) === undefined);
    const pick = candidates.find((x) => (x.m.transportProtocol === 'tls') === mtls);
    if (!pick) continue;
    return decodedChain(l, pick.i);
  }
  return null;
}

/** Chain `i` of listener `l`, decoded through the protos: its configs exactly as the proxy compiles them. */
export function decodedChain(l: Envoy, i: number): InboundChain {
  const decoded = decodeResource(encodeResource(TypeUrl.LISTENER, l));
  const chain = obj(arr(decoded.filterChains)[i]);
  return {
    listener: String(l.name),
    chain: String(chain.name ?? `filterChains[${i}]`),
    filters: arr(chain.filters),
  };
}
