// DestinationRule tls (SIMPLE / MUTUAL, files or credentialName) → the cluster's upstream TLS transport socket.
import type { ClientTLSSettings } from '../api/kinds/networking/destination-rule.js';
import { adsConfigSource, TYPES, type Envoy } from './envoy.js';

/** The transport socket for TLS origination; null for DISABLE, absent settings and ISTIO_MUTUAL (not yet). */
export function translateClientTls(tls: ClientTLSSettings | undefined, host: string): Envoy | null {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return null;
  const common: Envoy = {};
  if (tls.credentialName) {
    common.tlsCertificateSdsSecretConfigs =
      tls.mode === 'MUTUAL'
        ? [{ name: `kubernetes://${tls.credentialName}`, sdsConfig: adsConfigSource() }]
        : undefined;
    if (!tls.insecureSkipVerify)
      common.validationContextSdsSecretConfig = {
        name: `kubernetes://${tls.credentialName}-cacert`,
        sdsConfig: adsConfigSource(),
      };
    if (common.tlsCertificateSdsSecretConfigs === undefined) delete common.tlsCertificateSdsSecretConfigs;
  } else {
    if (tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey)
      common.tlsCertificates = [
        { certificateChain: { filename: tls.clientCertificate }, privateKey: { filename: tls.privateKey } },
      ];
    if (!tls.insecureSkipVerify) {
      const vc: Envoy = {};
      if (tls.caCertificates) vc.trustedCa = { filename: tls.caCertificates };
      if (tls.subjectAltNames?.length)
        vc.matchSubjectAltNames = tls.subjectAltNames.map((s) => ({ exact: s }));
      if (tls.caCrl) vc.crl = { filename: tls.caCrl };
      if (Object.keys(vc).length > 0) common.validationContext = vc;
    }
  }
  const ctx: Envoy = { '@type': TYPES.UPSTREAM_TLS, commonTlsContext: common, sni: tls.sni ?? host };
  return { name: 'envoy.transport_sockets.tls', typedConfig: ctx };
}
