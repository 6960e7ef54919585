// Workload selection shared by the security and telemetry kinds: `selector` and `targetRef(s)`.

/** Selects workloads by their labels (istio.type.v1beta1.WorkloadSelector). */
export interface WorkloadSelector {
  /** Labels a workload must all carry; empty or absent selects every workload in the namespace. */
  matchLabels?: Record<string, string>;
}

/** A Kubernetes Gateway API style reference to the resource a policy attaches to. */
export interface PolicyTargetReference {
  /** API group of the target: "" for core kinds (Service), "gateway.networking.k8s.io" for Gateway. */
  group?: string;
  /** Kind of the target: Gateway, GatewayClass, Service or ServiceEntry. */
  kind: string;
  /** Name of the target. */
  name: string;
  /** Namespace of the target; must be the policy's own namespace when given. */
  namespace?: string;
}
