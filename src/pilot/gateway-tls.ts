// A Gateway server's TLS settings → the DownstreamTlsContext transport socket of its filter chain:
// certificates from files or Secrets over SDS (`kubernetes://<credentialName>`), client validation for
// MUTUAL (CA, subjectAltNames, SPKI/hash pins), TLS versions and cipher suites.
import type { Server, ServerTLSSettings } from '../api/kinds/networking/gateway.js';
import type {
  envoy_config_core_v3_TransportSocket as TransportSocket,
  envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext as CertificateValidationContext,
  envoy_extensions_transport_sockets_tls_v3_CommonTlsContext as CommonTlsContext,
  envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext as DownstreamTlsContext,
  envoy_extensions_transport_sockets_tls_v3_TlsParameters as TlsParameters,
  envoy_extensions_transport_sockets_tls_v3_TlsParameters_TlsProtocol as TlsProtocol,
} from '../xds/envoy-types.js';
import { adsConfigSource, anyOf, TYPES, wrap } from './envoy.js';
import { buildIstioMutualServer } from './istio-mutual.js';

/** SDS resource name prefix for Kubernetes Secrets (as Istio names them). */
export const SDS_PREFIX = 'kubernetes://';

/** The SDS resource name of a credentialName: Istio adds `kubernetes://` unless the name has it already. */
export function sdsName(credentialName: string): string {
  return credentialName.startsWith(SDS_PREFIX) ? credentialName : SDS_PREFIX + credentialName;
}
/** Suffix of the SDS name that carries a credential's CA certificate. */
export const CA_SUFFIX = '-cacert';

/** Istio's TLSProtocol names → Envoy's TlsParameters.TlsProtocol. */
const VERSIONS: Record<string, TlsProtocol> = {
  TLS_AUTO: 'TLS_AUTO',
  TLSV1_0: 'TLSv1_0',
  TLSV1_1: 'TLSv1_1',
  TLSV1_2: 'TLSv1_2',
  TLSV1_3: 'TLSv1_3',
};

/** True for server TLS modes that terminate TLS at the gateway. */
export function terminatesTls(tls: ServerTLSSettings | undefined): boolean {
  const m = tls?.mode;
  return m === 'SIMPLE' || m === 'MUTUAL' || m === 'OPTIONAL_MUTUAL' || m === 'ISTIO_MUTUAL';
}

/** The `envoy.transport_sockets.tls` transport socket terminating TLS for a server. */
export function buildServerTransportSocket(server: Server, alpn: readonly string[]): TransportSocket {
  const tls = server.tls ?? {};
  // ISTIO_MUTUAL: the gateway's own mesh certificate; clients must present one signed by the mesh root.
  if (tls.mode === 'ISTIO_MUTUAL') return buildIstioMutualServer(alpn);
  const mutual = tls.mode === 'MUTUAL' || tls.mode === 'OPTIONAL_MUTUAL';
  const common: CommonTlsContext = {};
  if (alpn.length > 0) common.alpnProtocols = [...alpn];
  common.tlsParams = tlsParams(tls);
  const credentials = tls.credentialNames?.length
    ? tls.credentialNames
    : tls.credentialName
      ? [tls.credentialName]
      : [];
  const validation = defaultValidation(tls);
  if (credentials.length > 0) {
    common.tlsCertificateSdsSecretConfigs = credentials.map((c) => ({
      name: sdsName(c),
      sdsConfig: adsConfigSource(),
    }));
    if (mutual) {
      const sds = { name: sdsName(credentials[0]) + CA_SUFFIX, sdsConfig: adsConfigSource() };
      if (validation)
        common.combinedValidationContext = {
          defaultValidationContext: validation,
          validationContextSdsSecretConfig: sds,
        };
      else common.validationContextSdsSecretConfig = sds;
    }
  } else {
    const files = tls.tlsCertificates?.length
      ? tls.tlsCertificates.map((c) => ({ cert: c.serverCertificate, key: c.privateKey }))
      : [{ cert: tls.serverCertificate, key: tls.privateKey }];
    const certs = files.filter((f) => f.cert && f.key);
    if (certs.length > 0)
      common.tlsCertificates = certs.map((f) => ({
        certificateChain: { filename: f.cert },
        privateKey: { filename: f.key },
      }));
    if (mutual) {
      const ca = tls.caCertificates ?? tls.tlsCertificates?.find((c) => c.caCertificates)?.caCertificates;
      const vc: CertificateValidationContext = { ...(validation ?? {}) };
      if (ca) vc.trustedCa = { filename: ca };
      if (tls.caCrl) vc.crl = { filename: tls.caCrl };
      if (Object.keys(vc).length > 0) common.validationContext = vc;
    }
  }
  const ctx: DownstreamTlsContext = { commonTlsContext: common };
  if (tls.mode === 'MUTUAL') ctx.requireClientCertificate = wrap(true);
  return { name: 'envoy.transport_sockets.tls', typedConfig: anyOf(TYPES.DOWNSTREAM_TLS, ctx) };
}

/** TLS versions (Istio's gateway default minimum is TLS 1.2) and cipher suites. */
function tlsParams(tls: ServerTLSSettings): TlsParameters {
  const p: TlsParameters = {
    tlsMinimumProtocolVersion: VERSIONS[tls.minProtocolVersion ?? 'TLSV1_2'] ?? 'TLSv1_2',
  };
  const max = tls.maxProtocolVersion ? VERSIONS[tls.maxProtocolVersion] : undefined;
  if (max && max !== 'TLS_AUTO') p.tlsMaximumProtocolVersion = max;
  if (tls.cipherSuites?.length) p.cipherSuites = [...tls.cipherSuites];
  return p;
}

/** SAN rules and pins for client certificates, or null when none are configured. */
function defaultValidation(tls: ServerTLSSettings): CertificateValidationContext | null {
  const vc: CertificateValidationContext = {};
  if (tls.subjectAltNames?.length) vc.matchSubjectAltNames = tls.subjectAltNames.map((s) => ({ exact: s }));
  if (tls.verifyCertificateSpki?.length) vc.verifyCertificateSpki = [...tls.verifyCertificateSpki];
  if (tls.verifyCertificateHash?.length) vc.verifyCertificateHash = [...tls.verifyCertificateHash];
  return Object.keys(vc).length > 0 ? vc : null;
}
