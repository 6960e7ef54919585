// Workload selection shared by networking kinds (and reusable elsewhere): label selectors and target refs.
import { obj, str, nonEmpty, child, type At, type Checker, type Validator } from '../../schema.js';
import { labels } from '../../metadata.js';

/** Selects workloads by labels (networking's WorkloadSelector: Sidecar, ServiceEntry, EnvoyFilter). */
export interface WorkloadSelector {
  /** Labels a workload must all carry; empty or absent selects every workload in the namespace. */
  labels?: Record<string, string>;
}

/** istio.type.v1beta1.WorkloadSelector (`matchLabels`), as DestinationRule and ProxyConfig use it. */
export interface MatchLabelsSelector {
  /** Labels a workload must all carry; empty or absent selects every workload in the namespace. */
  matchLabels?: Record<string, string>;
}

/** A Gateway API style reference to the resource a policy attaches to (istio.type.v1beta1.PolicyTargetReference). */
export interface PolicyTargetReference {
  /** API group of the target: "" for core kinds (Service), "gateway.networking.k8s.io" for Gateway. */
  group?: string;
  /** Kind of the target, e.g. Gateway, GatewayClass, Service, ServiceEntry. */
  kind: string;
  /** Name of the target. */
  name: string;
  /** Namespace of the target; must be the policy's own namespace when given. */
  namespace?: string;
}

/** Schema of a networking WorkloadSelector (`labels`). */
export const workloadSelector = (): Validator<WorkloadSelector> =>
  obj<WorkloadSelector>({ labels: labels() });

/** Schema of istio.type.v1beta1.WorkloadSelector (`matchLabels`). */
export const matchLabelsSelector = (): Validator<MatchLabelsSelector> =>
  obj<MatchLabelsSelector>({ matchLabels: labels() });

/** Schema of a PolicyTargetReference; `kind` and `name` are required. */
export const policyTargetRef = (): Validator<PolicyTargetReference> =>
  obj<PolicyTargetReference>({
    group: str(),
    kind: { v: nonEmpty(), required: true },
    name: { v: nonEmpty(), required: true },
    namespace: str(),
  });

const TARGET_KINDS = [
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
];

/** Istio's targetRef rules: a Gateway, GatewayClass, Service or ServiceEntry in the policy's own namespace. */
export function checkTargetRef(r: PolicyTargetReference, at: At, c: Checker): void {
  const group = r.group ?? '';
  if (r.namespace)
    c.error(child(at, r, 'namespace'), 'must not be set: cross-namespace references are not supported');
  if (!TARGET_KINDS.some((t) => t.kind === r.kind && t.group === group))
    c.error(
      child(at, r, 'kind'),
      `targetRef must be one of ${TARGET_KINDS.map((t) => `${t.group || 'core'}/${t.kind}`).join(', ')}, got ${group || 'core'}/${r.kind}`,
    );
}
