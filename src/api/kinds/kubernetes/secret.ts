// Secret (v1): certificates and keys (e.g. a gateway's credentialName) and other small secrets.
import { str, bool, record, isPlainObject, child, type At, type Checker } from '../../schema.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { base64Size, checkBase64, checkConfigKey } from './names.js';

/** A Secret resource. */
export interface Secret extends Resource {
  kind: 'Secret';
  /** e.g. "Opaque" (default), "kubernetes.io/tls", "istio.io/cacerts"... */
  type?: string;
  /** Key → base64-encoded bytes, as written. */
  data?: Record<string, string>;
  /** Key → plain text; written over `data` by the API server. */
  stringData?: Record<string, string>;
  immutable?: boolean;
}

// ---------- validation ----------

/** Kubernetes' limit on the data of one Secret or ConfigMap, in bytes. */
export const MAX_DATA_BYTES = 1024 * 1024;

/** Keys each built-in Secret type requires. */
const REQUIRED_KEYS: Record<string, readonly string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/basic-auth': [],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
};

/** Reports when the data of a Secret/ConfigMap exceeds 1 MiB. */
export function checkDataSize(
  sizes: readonly (Record<string, string> | undefined)[],
  decoded: readonly boolean[],
  at: At,
  c: Checker,
): void {
  let total = 0;
  sizes.forEach((m, i) => {
    for (const v of Object.values(m ?? {})) total += decoded[i] ? base64Size(v) : Buffer.byteLength(v);
  });
  if (total > MAX_DATA_BYTES) c.error(at, `data must be at most 1 MiB, got ${total} bytes`);
}

/** The Secret kind: data values are base64, keys are config keys, typed secrets have their keys. */
export const secretKind = kubeKind(
  'Secret',
  ['v1'],
  {
    type: str(),
    data: record(str(checkBase64), checkConfigKey),
    stringData: record(str(), checkConfigKey),
    immutable: bool(),
  },
  {
    rules: (out, at, c) => {
      const s = out as unknown as Secret;
      const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
      const missing = (REQUIRED_KEYS[s.type ?? ''] ?? []).filter((k) => !keys.has(k));
      if (missing.length)
        c.error(
          child(at, out, isPlainObject(out.data) ? 'data' : 'type'),
          `a ${s.type} Secret needs key${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in data or stringData`,
        );
      checkDataSize([s.data, s.stringData], [true, false], child(at, out, 'data'), c);
    },
  },
);
