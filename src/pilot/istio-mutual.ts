// Istio mutual TLS transport sockets: the workload certificate (`default`) and the mesh root (`ROOTCA`)
// come over SDS from the proxy's own certificate agent (the `sds-grpc` cluster, as istio-agent serves
// Envoy), the ALPN values mark in-mesh traffic, and clients verify the server's SPIFFE identity.
import type {
  envoy_config_core_v3_ConfigSource as ConfigSource,
  envoy_config_core_v3_TransportSocket as TransportSocket,
  envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext as CertificateValidationContext,
  envoy_extensions_transport_sockets_tls_v3_CommonTlsContext as CommonTlsContext,
  envoy_extensions_transport_sockets_tls_v3_UpstreamTlsContext as UpstreamTlsContext,
} from '../xds/envoy-types.js';
import { anyOf, TYPES, wrap } from './envoy.js';

/** Istio's SDS secret names. */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

/** ALPN a sidecar client offers to an in-mesh server (TCP; HTTP/1.1 clusters too). */
export const ALPN_IN_MESH = ['istio-peer-exchange', 'istio'];
/** ALPN of an HTTP/2 in-mesh cluster. */
export const ALPN_IN_MESH_H2 = ['istio-peer-exchange', 'istio', 'h2'];
/** ALPN an in-mesh server accepts on a TCP chain (istio-peer-exchange: the TCP metadata exchange). */
export const ALPN_DOWNSTREAM = ['istio-peer-exchange', 'h2', 'http/1.1'];
/** ALPN an in-mesh server accepts on an HTTP chain (Istio's ALPNHttp): no TCP metadata exchange there. */
export const ALPN_HTTP = ['h2', 'http/1.1'];
/** ALPN values that mark a TLS connection as Istio mutual TLS (PERMISSIVE filter chain match). */
export const MTLS_APPLICATION_PROTOCOLS = [
  'istio-peer-exchange',
  'istio',
  'istio-http/1.0',
  'istio-http/1.1',
  'istio-h2',
];

/** The ConfigSource of secrets the proxy's certificate agent serves. */
export function agentSdsConfig(): ConfigSource {
  return {
    apiConfigSource: {
      apiType: 'GRPC',
      transportApiVersion: 'V3',
      grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }],
      setNodeOnFirstMessageOnly: true,
    },
    initialFetchTimeout: {},
    resourceApiVersion: 'V3',
  };
}

/** CommonTlsContext of Istio mutual TLS; `sans` (SPIFFE ids) restrict the peer's identity when given. */
function meshCommonTlsContext(alpn: readonly string[], sans: readonly string[]): CommonTlsContext {
  const validation: CertificateValidationContext = {};
  if (sans.length > 0) validation.matchSubjectAltNames = sans.map((s) => ({ exact: s }));
  return {
    tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
    alpnProtocols: [...alpn],
    tlsCertificateSdsSecretConfigs: [{ name: WORKLOAD_SECRET, sdsConfig: agentSdsConfig() }],
    combinedValidationContext: {
      defaultValidationContext: validation,
      validationContextSdsSecretConfig: { name: ROOT_SECRET, sdsConfig: agentSdsConfig() },
    },
  };
}

/** The client side (cluster transport socket) of Istio mutual TLS. */
export function buildIstioMutualClient(
  sni: string,
  sans: readonly string[],
  http2: boolean,
): TransportSocket {
  const ctx: UpstreamTlsContext = {
    commonTlsContext: meshCommonTlsContext(http2 ? ALPN_IN_MESH_H2 : ALPN_IN_MESH, sans),
  };
  if (sni) ctx.sni = sni;
  return { name: 'envoy.transport_sockets.tls', typedConfig: anyOf(TYPES.UPSTREAM_TLS, ctx) };
}

/** The server side (inbound filter chain, ISTIO_MUTUAL gateway server): a client certificate is required. */
export function buildIstioMutualServer(alpn: readonly string[] = ALPN_DOWNSTREAM): TransportSocket {
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: anyOf(TYPES.DOWNSTREAM_TLS, {
      commonTlsContext: meshCommonTlsContext(alpn, []),
      requireClientCertificate: wrap(true),
    }),
  };
}

/** Istio's SNI for in-mesh connections: `outbound_.PORT_.SUBSET_.HOST`. */
export function meshSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}
