// Wires the CA into the control plane: load or create the signing CA, pick the token authenticator,
// and serve CreateCertificate on the xDS gRPC port.
import { CA_SERVICE } from '../xds/ca-service.js';
import type { AdsServer } from '../xds/ads-server.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CaRootStore } from '../config/ca-root-store.js';
import { CA_FILES, CertificateAuthority } from './authority.js';
import { CaServer } from './ca-server.js';
import { decodeJwt } from 'jose';
import {
  ensureLocalTokenKey,
  LOCAL_TOKEN_ISSUER,
  LocalTokenAuthenticator,
  TOKEN_KEY_FILE,
  type CallerAuthenticator,
} from './token.js';

/** CA settings of the control plane. */
export interface CaOptions {
  /**
   * Directory of the CA: Istio `cacerts` files to plug in, or where the self-signed root is kept
   * (made on first start), plus the local token signing key. Null: a root in memory, no tokens.
   */
  readonly dir: string | null;
  /**
   * Where replicas share one root (`mizzen server --etcd`): used unless `dir` holds plugged cacerts
   * files (then every replica is expected to have the same ones, as with Istio's cacerts Secret).
   */
  readonly rootStore?: CaRootStore | null;
  /**
   * Authenticates tokens that are not local ones (`mizzen server --kubernetes`: Kubernetes
   * service-account tokens, by TokenReview). Null: only local tokens.
   */
  readonly kubernetesTokens?: CallerAuthenticator | null;
}

/** Local tokens (issuer mizzen-local) go to `local`, every other token to `kube`. */
function eitherAuthenticator(
  local: LocalTokenAuthenticator | null,
  kube: CallerAuthenticator,
): CallerAuthenticator {
  return {
    authenticate(token: string) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        issuer = undefined;
      }
      return local && issuer === LOCAL_TOKEN_ISSUER ? local.authenticate(token) : kube.authenticate(token);
    },
  };
}

/** Loads the CA and registers its service on the ADS server (before it listens). */
export async function startCa(
  ads: AdsServer,
  o: CaOptions,
  trustDomain: () => string,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<CaServer> {
  const plugged = o.dir !== null && existsSync(join(o.dir, CA_FILES.cert));
  const shared = o.rootStore && !plugged ? o.rootStore : null;
  const authority = shared
    ? await CertificateAuthority.loadShared(shared, trustDomain())
    : await CertificateAuthority.load(o.dir, trustDomain());
  let authenticator: LocalTokenAuthenticator | null = null;
  if (shared) {
    const key = (await shared.load())?.[TOKEN_KEY_FILE];
    if (key) authenticator = new LocalTokenAuthenticator(Buffer.from(key, 'base64'));
    else log('warn', `CA: ${shared.description} has no ${TOKEN_KEY_FILE}; pod tokens cannot be verified`);
  } else if (o.dir !== null) authenticator = new LocalTokenAuthenticator(ensureLocalTokenKey(o.dir));
  const callers = o.kubernetesTokens ? eitherAuthenticator(authenticator, o.kubernetesTokens) : authenticator;
  const server = new CaServer({ authority, authenticator: callers, trustDomain, log });
  ads.addService(CA_SERVICE, server.implementation());
  const subject = authority.signingCert.subject || '(empty subject)';
  const where = shared
    ? `shared by every replica in ${shared.description}`
    : o.dir === null
      ? 'in memory only (use --ca-dir to keep it and accept pod tokens)'
      : o.dir;
  log(
    'info',
    `CA: ${authority.source} signing certificate "${subject}"` +
      `${authority.intermediates.length > 0 ? ' (intermediate)' : ''}, ${where}`,
  );
  return server;
}
