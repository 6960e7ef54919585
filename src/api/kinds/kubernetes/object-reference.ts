// Kubernetes references shared by the core kinds: ObjectReference and LabelSelector.

/** A reference to another object (Endpoints/EndpointSlice targetRef: usually a Pod). */
export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** One set-based label requirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Required (non-empty) for In/NotIn, forbidden for Exists/DoesNotExist. */
  values?: string[];
}

/** A Kubernetes label selector: all matchLabels and all matchExpressions must hold. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}
