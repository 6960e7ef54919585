// Wires the CA into the control plane: load or create the signing CA, pick the token authenticator,
// and serve CreateCertificate on the xDS gRPC port.
import { CA_SERVICE } from '../xds/ca-service.js';
import type { AdsServer } from '../xds/ads-server.js';
import { CertificateAuthority } from './authority.js';
import { CaServer } from './ca-server.js';
import { ensureLocalTokenKey, LocalTokenAuthenticator } from './token.js';

/** CA settings of the control plane. */
export interface CaOptions {
  /**
   * Directory of the CA: Istio `cacerts` files to plug in, or where the self-signed root is kept
   * (made on first start), plus the local token signing key. Null: a root in memory, no tokens.
   */
  readonly dir: string | null;
}

/** Loads the CA and registers its service on the ADS server (before it listens). */
export async function startCa(
  ads: AdsServer,
  o: CaOptions,
  trustDomain: () => string,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<CaServer> {
  const authority = await CertificateAuthority.load(o.dir, trustDomain());
  const authenticator = o.dir !== null ? new LocalTokenAuthenticator(ensureLocalTokenKey(o.dir)) : null;
  const server = new CaServer({ authority, authenticator, trustDomain, log });
  ads.addService(CA_SERVICE, server.implementation());
  const subject = authority.signingCert.subject || '(empty subject)';
  const where = o.dir === null ? 'in memory only (use --ca-dir to keep it and accept pod tokens)' : o.dir;
  log(
    'info',
    `CA: ${authority.source} signing certificate "${subject}"` +
      `${authority.intermediates.length > 0 ? ' (intermediate)' : ''}, ${where}`,
  );
  return server;
}
