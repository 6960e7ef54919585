// ConfigMap (v1): plain configuration (e.g. the mesh config in istio/mesh).
import type { Resource } from '../../resource.js';

/** A ConfigMap resource. */
export interface ConfigMap extends Resource {
  kind: 'ConfigMap';
  /** Key → UTF-8 text. */
  data?: Record<string, string>;
  /** Key → base64-encoded bytes; keys must not repeat those of data. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}
