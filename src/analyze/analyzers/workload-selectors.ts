// Policy and Gateway selectors that match no workload (IST0127, and IST0101 "selector" for Gateways).
import type { Resource } from '../../api/resource.js';
import { field, type AnalysisContext, type Analyzer } from '../analyzer.js';
import { nonEmpty, selectorString } from '../labels.js';
import { MESSAGES } from '../messages.js';
import { ROOT_NAMESPACE } from '../mesh-index.js';
import type { GatewaySpec } from '../../api/kinds/networking/gateway.js';

/** Kinds whose `spec.selector.matchLabels` picks the workloads they apply to. */
const POLICY_KINDS = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Telemetry'];

interface PolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: unknown;
  targetRefs?: unknown[];
}

/**
 * A policy whose selector matches no workload in its namespace (the whole mesh for the root namespace)
 * applies to nothing (IST0127); a Gateway whose selector matches no workload in any namespace has no
 * proxy to run on (IST0101). `istio: ingressgateway` is the ingress gateway `mizzen up` always runs.
 */
export const workloadSelectorAnalyzer: Analyzer = {
  name: 'selector.WorkloadSelectorAnalyzer',
  description: 'Checks that policy and Gateway selectors match at least one workload',
  analyze(ctx) {
    if (!ctx.index.hasWorkloads) return;
    for (const kind of POLICY_KINDS) for (const r of ctx.index.ofKind(kind)) checkPolicy(ctx, r);
    for (const r of ctx.index.ofKind('Gateway')) {
      const spec = (r.spec ?? {}) as GatewaySpec;
      if (!nonEmpty(spec.selector)) continue;
      if (ctx.index.workloadsSelected(spec.selector).length > 0) continue;
      ctx.report(
        MESSAGES.ReferencedResourceNotFound,
        r,
        field(spec, 'selector', 'spec.selector'),
        `Referenced selector not found: ${JSON.stringify(selectorString(spec.selector))}; no workload in any namespace has these labels`,
      );
    }
  },
};

function checkPolicy(ctx: AnalysisContext, r: Resource): void {
  const spec = (r.spec ?? {}) as PolicySpec;
  if (spec.targetRef || (spec.targetRefs && spec.targetRefs.length > 0)) return;
  const ns = r.metadata.namespace ?? 'default';
  const scope = ns === ROOT_NAMESPACE ? undefined : ns;
  const labels = spec.selector?.matchLabels;
  if (nonEmpty(labels)) {
    if (ctx.index.workloadsSelected(labels, scope).length > 0) return;
    ctx.report(
      MESSAGES.NoMatchingWorkloadsFound,
      r,
      field(spec.selector, 'matchLabels', 'spec.selector.matchLabels'),
      `No matching workloads for this resource with the following labels: ${selectorString(labels)}${scope ? ` (in namespace ${scope})` : ''}`,
    );
    return;
  }
  // Istio flags a namespace-wide AuthorizationPolicy in a namespace without workloads.
  if (
    r.kind === 'AuthorizationPolicy' &&
    scope &&
    ctx.index.workloadsSelected(undefined, scope).length === 0
  ) {
    ctx.report(
      MESSAGES.NoMatchingWorkloadsFound,
      r,
      field(r.metadata, 'namespace', 'metadata.namespace'),
      `No matching workloads for this resource with the following labels: (namespace ${scope} has no workloads)`,
    );
  }
}
