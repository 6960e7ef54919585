// DestinationRule tls (SIMPLE / MUTUAL, files or credentialName) → the cluster's upstream TLS transport socket.
import type { ClientTLSSettings } from '../api/kinds/networking/destination-rule.js';
import type {
  envoy_config_core_v3_TransportSocket as TransportSocket,
  envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext as CertificateValidationContext,
  envoy_extensions_transport_sockets_tls_v3_CommonTlsContext as CommonTlsContext,
  envoy_extensions_transport_sockets_tls_v3_UpstreamTlsContext as UpstreamTlsContext,
} from '../xds/envoy-types.js';
import { adsConfigSource, anyOf, TYPES } from './envoy.js';
import { sdsName } from './gateway-tls.js';

/** Where proxies find the OS trust bundle (Debian/Ubuntu path, as in Istio's proxy image). */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The transport socket for TLS origination; null for DISABLE, absent settings and ISTIO_MUTUAL (the
 * security issue). Without caCertificates (and without insecureSkipVerify) the server is verified
 * against the OS CA bundle, as current Istio does; subjectAltNames become SAN rules.
 */
export function translateClientTls(tls: ClientTLSSettings | undefined, host: string): TransportSocket | null {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return null;
  const common: CommonTlsContext = {};
  const sans: CertificateValidationContext = {};
  if (tls.subjectAltNames?.length) sans.matchSubjectAltNames = tls.subjectAltNames.map((s) => ({ exact: s }));
  if (tls.credentialName) {
    if (tls.mode === 'MUTUAL')
      common.tlsCertificateSdsSecretConfigs = [
        { name: sdsName(tls.credentialName), sdsConfig: adsConfigSource() },
      ];
    if (!tls.insecureSkipVerify) {
      const sds = { name: `${sdsName(tls.credentialName)}-cacert`, sdsConfig: adsConfigSource() };
      if (Object.keys(sans).length > 0)
        common.combinedValidationContext = {
          defaultValidationContext: sans,
          validationContextSdsSecretConfig: sds,
        };
      else common.validationContextSdsSecretConfig = sds;
    }
  } else {
    if (tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey)
      common.tlsCertificates = [
        { certificateChain: { filename: tls.clientCertificate }, privateKey: { filename: tls.privateKey } },
      ];
    if (!tls.insecureSkipVerify) {
      const vc: CertificateValidationContext = {
        trustedCa: { filename: tls.caCertificates ?? SYSTEM_CA_BUNDLE },
        ...sans,
      };
      if (tls.caCrl) vc.crl = { filename: tls.caCrl };
      common.validationContext = vc;
    }
  }
  const ctx: UpstreamTlsContext = { commonTlsContext: common };
  const sni = tls.sni ?? (host.includes('*') ? '' : host);
  if (sni) ctx.sni = sni;
  return { name: 'envoy.transport_sockets.tls', typedConfig: anyOf(TYPES.UPSTREAM_TLS, ctx) };
}
