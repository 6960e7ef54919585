// Workload selection shared by the security and telemetry kinds: `selector` and `targetRef(s)`.
import { obj, str, nonEmpty, record, fieldAt, type At, type Checker, type Validator } from '../../schema.js';
import { checkLabelKey, checkLabelValue, isDns1123Subdomain } from '../../checks.js';
import { didYouMean } from '../../suggest.js';
import type {
  MatchLabelsSelector,
  PolicyTargetReference as NetworkingTargetRef,
} from '../networking/workload-selector.js';

/**
 * Selects workloads by their labels (istio.type.v1beta1.WorkloadSelector, `matchLabels`): the same type
 * networking uses for DestinationRule; validated here with Istio's policy rules (no wildcards).
 */
export type WorkloadSelector = MatchLabelsSelector;

/** A Gateway API style reference to the resource a policy attaches to (shared with networking). */
export type PolicyTargetReference = NetworkingTargetRef;

/** The fields every policy kind shares for choosing the workloads it applies to. */
export interface PolicyTargets {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
}

function checkSelectorKey(k: string, at: At, c: Checker): void {
  if (k.includes('*')) c.error(at, `wildcard is not supported in selector keys, got ${JSON.stringify(k)}`);
  else checkLabelKey(k, at, c);
}

function checkSelectorValue(v: string, at: At, c: Checker): void {
  if (v.includes('*')) c.error(at, `wildcard is not supported in selector values, got ${JSON.stringify(v)}`);
  else checkLabelValue(v, at, c);
}

/**
 * `selector: { matchLabels }` with Istio's policy rules: no wildcards, valid labels; a selector without
 * labels selects the whole namespace (warning).
 */
export const workloadSelector = (): Validator<WorkloadSelector> =>
  obj<WorkloadSelector>(
    { matchLabels: record(str(checkSelectorValue), checkSelectorKey) },
    {
      rules: (s, at, c) => {
        if (!s.matchLabels || Object.keys(s.matchLabels).length === 0)
          c.warn(at, 'workload selector without labels selects every workload in the namespace');
      },
    },
  );

/** The kinds a policy may target, as `group/Kind` (core group written as ""). */
const TARGET_KINDS: readonly { group: string; kind: string }[] = [
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
];

const KIND_NAME = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** One `targetRef` with Istio's rules: Service, ServiceEntry or Gateway, group fitting the kind, no namespace. */
export const policyTargetReference = (): Validator<PolicyTargetReference> =>
  obj<PolicyTargetReference>(
    {
      group: str((v, at, c) => {
        if (v !== '' && !isDns1123Subdomain(v))
          c.error(at, `must be an API group such as "gateway.networking.k8s.io", got ${JSON.stringify(v)}`);
      }),
      kind: {
        required: true,
        v: nonEmpty((v, at, c) => {
          if (!KIND_NAME.test(v) || v.length > 63)
            c.error(at, `must be a kind name, got ${JSON.stringify(v)}`);
        }),
      },
      name: { required: true, v: nonEmpty() },
      namespace: str(),
    },
    {
      rules: (r, at, c) => {
        if (r.namespace)
          c.error(
            fieldAt(at, r, 'namespace'),
            'must not be set: cross-namespace references are not supported (the target must be in the policy namespace)',
          );
        const group = r.group === 'core' ? '' : (r.group ?? '');
        if (!TARGET_KINDS.some((t) => t.kind === r.kind && t.group === group)) {
          const known = TARGET_KINDS.map((t) => `${t.kind} (group ${JSON.stringify(t.group)})`).join(', ');
          const byKind = TARGET_KINDS.find((t) => t.kind === r.kind);
          const hint = byKind
            ? `; ${r.kind} is in group ${JSON.stringify(byKind.group)}`
            : didYouMean(
                r.kind,
                TARGET_KINDS.map((t) => t.kind),
              );
          c.error(
            fieldAt(at, r, byKind ? 'group' : 'kind'),
            `targetRef must refer to one of ${known}, got group ${JSON.stringify(r.group ?? '')} kind ${JSON.stringify(r.kind)}${hint}`,
          );
        }
      },
    },
  );

/** Rule shared by policy kinds: at most one of selector, targetRef, targetRefs. */
export function checkOneTargetKind(s: PolicyTargets, at: At, c: Checker): void {
  const set = (['selector', 'targetRef', 'targetRefs'] as const).filter((k) =>
    k === 'targetRefs' ? (s.targetRefs?.length ?? 0) > 0 : s[k] !== undefined,
  );
  if (set.length > 1)
    c.error(
      fieldAt(at, s, set[1]),
      `only one of selector, targetRef or targetRefs may be set, got ${set.join(' and ')}`,
    );
}

/** Warns about targetRefs to a Service or ServiceEntry: Istio applies those on waypoint proxies only. */
export function warnWaypointOnly(p: PolicyTargets, at: At, c: Checker): void {
  const refs = p.targetRefs?.length ? p.targetRefs : p.targetRef ? [p.targetRef] : [];
  if (refs.some((r) => r.kind === 'Service' || r.kind === 'ServiceEntry'))
    c.warn(
      fieldAt(at, p, p.targetRefs?.length ? 'targetRefs' : 'targetRef'),
      'a Service or ServiceEntry target applies only on waypoint proxies (ambient mode), which Mizzen does not run: this policy is not enforced on sidecars or gateways; use selector instead',
    );
}
