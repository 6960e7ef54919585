// Secret (v1): certificates and keys (e.g. a gateway's credentialName) and other small secrets.
import type { Resource } from '../../resource.js';

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
