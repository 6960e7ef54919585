// Who is calling the CA. A caller proves its identity with a bearer token; the authenticator turns the
// token into a namespace and service account. Local mode (`mizzen up`) signs tokens shaped like
// Kubernetes projected service-account tokens with a key kept beside the CA; a Kubernetes
// authenticator (TokenReview) can implement the same interface.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';

/** The identity a token proves. */
export interface Caller {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The pod the token was issued for ('' when unknown). */
  readonly pod: string;
}

/** Turns a bearer token into a caller; rejects with a message saying why not. */
export interface CallerAuthenticator {
  authenticate(token: string): Promise<Caller>;
}

/** Issuer and audience of local tokens (Kubernetes uses the API server URL and `istio-ca`). */
export const LOCAL_TOKEN_ISSUER = 'mizzen-local';
export const TOKEN_AUDIENCE = 'istio-ca';

/** File name of the local token signing key inside the CA directory. */
export const TOKEN_KEY_FILE = 'token-signing-key';

/** The HMAC key of local tokens in `dir`, created (mode 0600) when absent; safe against a concurrent creator. */
export function ensureLocalTokenKey(dir: string): Buffer {
  const file = join(dir, TOKEN_KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 16) throw new Error(`${file}: the token signing key is too short; delete the file`);
  return key;
}

/** Signs a token for a pod, as the kubelet's projected token: sub system:serviceaccount:NS:SA. */
export async function issueLocalToken(
  key: Buffer,
  caller: Caller,
  ttlSeconds = 365 * 86400,
): Promise<string> {
  return new SignJWT({
    'kubernetes.io': {
      namespace: caller.namespace,
      serviceaccount: { name: caller.serviceAccount },
      ...(caller.pod ? { pod: { name: caller.pod } } : {}),
    },
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(LOCAL_TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(`system:serviceaccount:${caller.namespace}:${caller.serviceAccount}`)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/** Verifies local tokens signed with `key`. */
export class LocalTokenAuthenticator implements CallerAuthenticator {
  constructor(private readonly key: Buffer) {}

  async authenticate(token: string): Promise<Caller> {
    const { payload } = await jwtVerify(token, this.key, {
      issuer: LOCAL_TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ['HS256'],
    });
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(String(payload.sub ?? ''));
    if (!m) throw new Error('token subject is not system:serviceaccount:NAMESPACE:NAME');
    const k8s = (payload['kubernetes.io'] ?? {}) as { pod?: { name?: string } };
    return { namespace: m[1], serviceAccount: m[2], pod: String(k8s.pod?.name ?? '') };
  }
}
