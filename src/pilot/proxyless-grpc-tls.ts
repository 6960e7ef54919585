// The transport socket of a proxyless gRPC client's cluster (Istio's grpcgen applyTLS): DestinationRule
// ISTIO_MUTUAL becomes an UpstreamTlsContext naming the bootstrap's certificate provider instance
// `default` (certificate `default`, root `ROOTCA`), which the client's agent fills from files; every
// other case stays plaintext, with a warning where the config asks for something gRPC does not get.
import type { ClientTLSSettings } from '../api/kinds/networking/destination-rule.js';
import type { MeshService, ServicePort } from '../registry/model.js';
import { effectivePolicy } from './destination-policy.js';
import { serviceIdentities, TLS_MODE_LABEL } from './cluster-tls.js';
import type {
  envoy_config_core_v3_TransportSocket as TransportSocket,
  envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext as CertificateValidationContext,
  envoy_extensions_transport_sockets_tls_v3_CommonTlsContext as CommonTlsContext,
} from '../xds/envoy-types.js';
import { anyOf, TYPES } from './envoy.js';
import type { ProxyScope } from './scoping.js';

/** The bootstrap's certificate provider instance Istio's agent writes (file_watcher over OUTPUT_CERTS). */
export const GRPC_CERT_PROVIDER = 'default';
/** Certificate names inside that instance, as Istio's grpcgen sends them. */
export const GRPC_WORKLOAD_CERT = 'default';
export const GRPC_ROOT_CERT = 'ROOTCA';

/** The cluster's transport socket (null = plaintext) and what the server log should say about it. */
export interface GrpcClusterTls {
  readonly transportSocket: TransportSocket | null;
  readonly warnings: string[];
}

/**
 * CommonTlsContext of Istio's grpcgen: the current certificate-provider fields (which grpc-js-xds
 * reads) and the deprecated ones (older grpc-go/grpc-java read those), as Istio sends both.
 */
export function buildGrpcCommonTlsContext(sans: readonly string[]): CommonTlsContext {
  const cert = { instanceName: GRPC_CERT_PROVIDER, certificateName: GRPC_WORKLOAD_CERT };
  const root = { instanceName: GRPC_CERT_PROVIDER, certificateName: GRPC_ROOT_CERT };
  const validation: CertificateValidationContext = { caCertificateProviderInstance: root };
  if (sans.length > 0) validation.matchSubjectAltNames = sans.map((s) => ({ exact: s }));
  return {
    tlsCertificateProviderInstance: cert,
    tlsCertificateCertificateProviderInstance: cert,
    combinedValidationContext: {
      defaultValidationContext: validation,
      validationContextCertificateProviderInstance: root,
    },
  };
}

/** Istio mutual TLS for a gRPC client: the server must prove one of `sans` (SPIFFE ids). */
export function buildGrpcUpstreamTls(sans: readonly string[]): TransportSocket {
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: anyOf(TYPES.UPSTREAM_TLS, { commonTlsContext: buildGrpcCommonTlsContext(sans) }),
  };
}

/** The transport socket of a gRPC client's cluster for `svc:port` (subset may be ''). */
export function buildGrpcClusterTls(
  scope: ProxyScope,
  svc: MeshService,
  port: ServicePort,
  subset: string,
): GrpcClusterTls {
  const tls = effectivePolicy(scope.destinationRule(svc.hostname), subset, port.port).tls;
  const warnings: string[] = [];
  if (tls?.mode === 'ISTIO_MUTUAL') {
    const sans = tls.subjectAltNames?.length ? tls.subjectAltNames : serviceIdentities(scope, svc, port);
    if (tls.sni)
      warnings.push(
        `DestinationRule tls.sni "${tls.sni}" is not applied: gRPC sends the target's host name as SNI`,
      );
    const permissive = sidecarEndpointIn(scope, svc, port.port, 'PERMISSIVE');
    if (permissive)
      warnings.push(
        `endpoint ${permissive} is PERMISSIVE: gRPC offers ALPN h2 only, not Istio's, so that sidecar takes the TLS for plaintext and the call fails; make it STRICT (as Istio documents for proxyless gRPC)`,
      );
    return { transportSocket: buildGrpcUpstreamTls(sans), warnings };
  }
  const gap = plaintextGap(scope, svc, port.port, tls);
  if (gap) warnings.push(gap);
  return { transportSocket: null, warnings };
}

/** Why plaintext to this destination does not do what the config says, or null. */
function plaintextGap(
  scope: ProxyScope,
  svc: MeshService,
  port: number,
  tls: ClientTLSSettings | undefined,
): string | null {
  if (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL')
    return `DestinationRule tls mode ${tls.mode} is not applied: proxyless gRPC clients get TLS from certificate providers only (ISTIO_MUTUAL), as Istio's grpcgen; the client sends plaintext`;
  if (tls?.mode === 'DISABLE') return null;
  const strict = sidecarEndpointIn(scope, svc, port, 'STRICT');
  if (strict)
    return `endpoint ${strict} requires mutual TLS (PeerAuthentication STRICT), but proxyless gRPC clients get no auto mTLS (as Istio): its plaintext is refused; add a DestinationRule with tls.mode ISTIO_MUTUAL and give the client XdsChannelCredentials and certificates (mizzen agent)`;
  return null;
}

/** `address:port` of the first sidecar endpoint whose PeerAuthentication mode is `mode`, or null. */
function sidecarEndpointIn(scope: ProxyScope, svc: MeshService, port: number, mode: string): string | null {
  for (const e of scope.push.registry.endpoints(svc, port))
    if (
      e.labels[TLS_MODE_LABEL] === 'istio' &&
      scope.push.peerAuthn.modeFor(e.namespace, e.labels, e.port).mode === mode
    )
      return `${e.address}:${e.port}`;
  return null;
}
