// ServiceAccount (v1): a workload identity; becomes spiffe://<trust domain>/ns/<ns>/sa/<name>.
import { obj, str, bool, list } from '../../schema.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { objectReference, type ObjectReference } from './object-reference.js';

/** A ServiceAccount resource. */
export interface ServiceAccount extends Resource {
  kind: 'ServiceAccount';
  secrets?: ObjectReference[];
  imagePullSecrets?: { name?: string }[];
  automountServiceAccountToken?: boolean;
}

/** The ServiceAccount kind. */
export const serviceAccountKind = kubeKind('ServiceAccount', ['v1'], {
  secrets: list(objectReference()),
  imagePullSecrets: list(obj<{ name?: string }>({ name: str() })),
  automountServiceAccountToken: bool(),
});
