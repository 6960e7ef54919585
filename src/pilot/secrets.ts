// SDS: gateway credentials (`kubernetes://<secret>` and `kubernetes://<secret>-cacert`) from Secrets in config.
import type { Envoy } from './envoy.js';
import type { ProxyScope } from './scoping.js';

const PREFIX = 'kubernetes://';

/** The Secret resource for an SDS name, looked up in the proxy's namespace (or `ns/name`). */
export function buildSecret(scope: ProxyScope, name: string): Envoy | null {
  if (!name.startsWith(PREFIX)) return null;
  let ref = name.slice(PREFIX.length);
  const ca = ref.endsWith('-cacert');
  if (ca) ref = ref.slice(0, -'-cacert'.length);
  const slash = ref.indexOf('/');
  const ns = slash > 0 ? ref.slice(0, slash) : scope.proxy.namespace;
  const secretName = slash > 0 ? ref.slice(slash + 1) : ref;
  const secret = scope.push.snapshot.get('Secret', ns, secretName);
  if (!secret) return null;
  const data = (secret.data ?? {}) as Record<string, string>;
  const text = (secret.stringData ?? {}) as Record<string, string>;
  // Canonical form carries bytes as Buffers; Secret.data holds base64, stringData plain text.
  const bytes = (key: string): Buffer | undefined =>
    data[key] !== undefined
      ? Buffer.from(data[key], 'base64')
      : text[key] !== undefined
        ? Buffer.from(text[key], 'utf8')
        : undefined;
  if (ca) {
    const caCert = bytes('ca.crt') ?? bytes('cacert');
    return caCert ? { name, validationContext: { trustedCa: { inlineBytes: caCert } } } : null;
  }
  const cert = bytes('tls.crt') ?? bytes('cert');
  const key = bytes('tls.key') ?? bytes('key');
  if (!cert || !key) return null;
  return {
    name,
    tlsCertificate: { certificateChain: { inlineBytes: cert }, privateKey: { inlineBytes: key } },
  };
}
