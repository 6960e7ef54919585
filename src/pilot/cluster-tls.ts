// The transport socket of an outbound cluster (Istio's cluster_tls): DestinationRule tls first
// (ISTIO_MUTUAL, DISABLE, SIMPLE, MUTUAL; top level, per port, per subset as the effective policy
// says), else auto mTLS: per endpoint, Istio mutual TLS to workloads with a sidecar (endpoint metadata
// tlsMode=istio) and plaintext to the rest.
import type { ClientTLSSettings } from '../api/kinds/networking/destination-rule.js';
import type { MeshService, ServicePort } from '../registry/model.js';
import { structFromJson } from '../xds/struct.js';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_core_v3_Metadata as Metadata,
} from '../xds/envoy-types.js';
import { buildIstioMutualClient, meshSni } from './istio-mutual.js';
import { translateClientTls } from './tls-origination.js';
import { anyOf, TYPES } from './envoy.js';
import type { ProxyScope } from './scoping.js';

/** Endpoint metadata namespace Envoy's transport_socket_matches read. */
export const TRANSPORT_SOCKET_MATCH = 'envoy.transport_socket_match';
/** The pod label Istio's injector sets on workloads with a sidecar. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** Sets `transportSocket` or `transportSocketMatches` on an outbound cluster. */
export function applyClusterTls(
  scope: ProxyScope,
  cluster: Cluster,
  svc: MeshService,
  port: ServicePort,
  subset: string,
  tls: ClientTLSSettings | undefined,
  http2: boolean,
): void {
  // A proxy standing in for a pod without a sidecar has no mesh certificate.
  const canMtls = !scope.proxy.noSidecar;
  if (tls?.mode === 'ISTIO_MUTUAL') {
    if (!canMtls) return;
    const sans = tls.subjectAltNames?.length ? tls.subjectAltNames : serviceIdentities(scope, svc, port);
    cluster.transportSocket = buildIstioMutualClient(
      tls.sni ?? meshSni(port.port, subset, svc.hostname),
      sans,
      http2,
    );
    return;
  }
  if (tls) {
    const t = translateClientTls(tls, svc.hostname);
    if (t) cluster.transportSocket = t;
    return;
  }
  if (!canMtls || !scope.push.mesh.enableAutoMtls) return;
  cluster.transportSocketMatches = [
    {
      name: 'tlsMode-istio',
      match: structFromJson({ tlsMode: 'istio' }),
      transportSocket: buildIstioMutualClient(
        meshSni(port.port, subset, svc.hostname),
        serviceIdentities(scope, svc, port),
        http2,
      ),
    },
    {
      name: 'tlsMode-disabled',
      match: {},
      transportSocket: {
        name: 'envoy.transport_sockets.raw_buffer',
        typedConfig: anyOf(TYPES.RAW_BUFFER, {}),
      },
    },
  ];
}

/** SPIFFE ids of the service accounts behind a service port (Istio verifies the server is one of them). */
export function serviceIdentities(scope: ProxyScope, svc: MeshService, port: ServicePort): string[] {
  const td = scope.push.mesh.trustDomain;
  const out = new Set<string>();
  for (const e of scope.push.registry.endpoints(svc, port.port))
    if (e.serviceAccount && e.namespace) out.add(`spiffe://${td}/ns/${e.namespace}/sa/${e.serviceAccount}`);
  return [...out].sort();
}

/**
 * The endpoint metadata that turns auto mTLS on for one endpoint: it has a sidecar (tlsMode label)
 * and its PeerAuthentication does not DISABLE mTLS on that port (Istio sends plaintext then).
 */
export function endpointTlsMetadata(
  scope: ProxyScope,
  e: { readonly labels: Readonly<Record<string, string>>; readonly namespace: string; readonly port: number },
): Metadata | null {
  if (e.labels[TLS_MODE_LABEL] !== 'istio') return null;
  if (scope.push.peerAuthn.modeFor(e.namespace, e.labels, e.port).mode === 'DISABLE') return null;
  return { filterMetadata: { [TRANSPORT_SOCKET_MATCH]: structFromJson({ tlsMode: 'istio' }) } };
}
