// Kubernetes references shared by the core kinds: ObjectReference and LabelSelector.
import { obj, str, list, enumOf, fieldAt, type Validator } from '../../schema.js';
import { checkLabelKey, checkLabelValue } from '../../checks.js';
import { labels } from '../../metadata.js';

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

/** Schema of an ObjectReference. */
export const objectReference = (): Validator<ObjectReference> =>
  obj<ObjectReference>({
    kind: str(),
    namespace: str(),
    name: str(),
    uid: str(),
    apiVersion: str(),
    resourceVersion: str(),
    fieldPath: str(),
  });

const requirement = (): Validator<LabelSelectorRequirement> =>
  obj<LabelSelectorRequirement>(
    {
      key: { required: true, v: str(checkLabelKey) },
      operator: { required: true, v: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const) },
      values: list(str(checkLabelValue)),
    },
    {
      rules: (r, at, c) => {
        const set = (r.values?.length ?? 0) > 0;
        if ((r.operator === 'In' || r.operator === 'NotIn') && !set)
          c.error(fieldAt(at, r, 'values'), `must be non-empty when operator is ${r.operator}`);
        if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && set)
          c.error(fieldAt(at, r, 'values'), `must be empty when operator is ${r.operator}`);
      },
    },
  );

/** Schema of a LabelSelector (Deployment spec.selector). */
export const labelSelector = (): Validator<LabelSelector> =>
  obj<LabelSelector>({ matchLabels: labels(), matchExpressions: list(requirement()) });

/** True when `l` satisfies the selector (an empty selector matches everything). */
export function selectorMatches(sel: LabelSelector, l: Readonly<Record<string, string>> = {}): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const ok =
      r.operator === 'Exists'
        ? has
        : r.operator === 'DoesNotExist'
          ? !has
          : r.operator === 'In'
            ? has && (r.values ?? []).includes(l[r.key])
            : !has || !(r.values ?? []).includes(l[r.key]);
    if (!ok) return false;
  }
  return true;
}
