// SDS: gateway credentials (`kubernetes://<secret>` and `kubernetes://<secret>-cacert`) from Secrets in config.
import type { envoy_extensions_transport_sockets_tls_v3_Secret as Secret } from '../xds/envoy-types.js';
import type { ProxyScope } from './scoping.js';

const PREFIX = 'kubernetes://';

/** The Secret resource for an SDS name, looked up in the proxy's namespace (or `ns/name`). */
export function buildSecret(scope: ProxyScope, name: string): Secret | null {
  if (!name.startsWith(PREFIX)) return null;
  let ref = name.slice(PREFIX.length);
  const ca = ref.endsWith('-cacert');
  if (ca) ref = ref.slice(0, -'-cacert'.length);
  const slash = ref.indexOf('/');
  const ns = slash > 0 ? ref.slice(0, slash) : scope.proxy.namespace;
  const secretName = slash > 0 ? ref.slice(slash + 1) : ref;
  const get = (n: string): Record<string, unknown> | undefined => scope.push.snapshot.get('Secret', ns, n);
  if (ca) {
    // Istio reads the CA from a Secret `<name>-cacert` when there is one, else `ca.crt` of `<name>`.
    const caCert = keyOf(get(`${secretName}-cacert`), CA_KEYS) ?? keyOf(get(secretName), CA_KEYS);
    return caCert ? { name, validationContext: { trustedCa: { inlineBytes: caCert } } } : null;
  }
  const secret = get(secretName);
  const cert = keyOf(secret, CERT_KEYS);
  const key = keyOf(secret, KEY_KEYS);
  if (!cert || !key) return null;
  return {
    name,
    tlsCertificate: { certificateChain: { inlineBytes: cert }, privateKey: { inlineBytes: key } },
  };
}

/** Keys Istio reads, Kubernetes TLS Secret names first, then the generic ones older Istio docs use. */
const CERT_KEYS = ['tls.crt', 'cert'];
const KEY_KEYS = ['tls.key', 'key'];
const CA_KEYS = ['ca.crt', 'cacert'];

/** The first of `keys` present in the Secret, as bytes (`data` holds base64, `stringData` text). */
function keyOf(secret: Record<string, unknown> | undefined, keys: readonly string[]): Buffer | undefined {
  if (!secret) return undefined;
  // Canonical form carries bytes as Buffers.
  const data = (secret.data ?? {}) as Record<string, string>;
  const text = (secret.stringData ?? {}) as Record<string, string>;
  for (const k of keys) {
    if (text[k] !== undefined) return Buffer.from(text[k], 'utf8');
    if (data[k] !== undefined) return Buffer.from(data[k], 'base64');
  }
  return undefined;
}
