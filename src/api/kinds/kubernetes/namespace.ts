// Namespace (v1, cluster-scoped): its labels (istio-injection, istio.io/rev) steer the mesh.
import type { Resource } from '../../resource.js';

/** A Namespace resource. */
export interface Namespace extends Resource {
  kind: 'Namespace';
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating'; [field: string]: unknown };
}
