// ServiceAccount (v1): a workload identity; becomes spiffe://<trust domain>/ns/<ns>/sa/<name>.
import type { Resource } from '../../resource.js';
import type { ObjectReference } from './object-reference.js';

/** A ServiceAccount resource. */
export interface ServiceAccount extends Resource {
  kind: 'ServiceAccount';
  secrets?: ObjectReference[];
  imagePullSecrets?: { name?: string }[];
  automountServiceAccountToken?: boolean;
}
