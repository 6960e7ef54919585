// DestinationRule tls (SIMPLE / MUTUAL, files or credentialName) → the cluster's upstream TLS transport socket.
import type { ClientTLSSettings } from '../api/kinds/networking/destination-rule.js';
import { adsConfigSource, TYPES, type Envoy } from './envoy.js';
import { sdsName } from './gateway-tls.js';

/** Where proxies find the OS trust bundle (Debian/Ubuntu path, as in Istio's proxy image). */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The transport socket for TLS origination; null for DISABLE, absent settings and ISTIO_MUTUAL (the
 * security issue). Without caCertificates (and without insecureSkipVerify) the server is verified
 * against the OS CA bundle, as current Istio does; subjectAltNames become SAN rules.
 */
export function translateClientTls(tls: ClientTLSSettings | undefined, host: string): Envoy | null {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return null;
  const common: Envoy = {};
  const sans: Envoy = {};
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
      const vc: Envoy = { trustedCa: { filename: tls.caCertificates ?? SYSTEM_CA_BUNDLE }, ...sans };
      if (tls.caCrl) vc.crl = { filename: tls.caCrl };
      common.validationContext = vc;
    }
  }
  const ctx: Envoy = { '@type': TYPES.UPSTREAM_TLS, commonTlsContext: common };
  const sni = tls.sni ?? (host.includes('*') ? '' : host);
  if (sni) ctx.sni = sni;
  return { name: 'envoy.transport_sockets.tls', typedConfig: ctx };
}
