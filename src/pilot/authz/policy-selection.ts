// Which security policies (AuthorizationPolicy, RequestAuthentication) apply to a proxy: those of the
// mesh root namespace and of the proxy's namespace, by selector, or by targetRef to the Gateway API
// gateway the proxy runs (label gateway.networking.k8s.io/gateway-name), as Istio attaches them.
import type { Resource } from '../../api/resource.js';
import type { PolicyTargets } from '../../api/kinds/security/policy-target.js';
import { selects } from '../../registry/labels.js';
import type { ProxyScope } from '../scoping.js';

/** The label Istio puts on the pods of a Gateway API gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

function targetRefsOf(spec: PolicyTargets): NonNullable<PolicyTargets['targetRefs']> {
  if (spec.targetRefs?.length) return spec.targetRefs;
  return spec.targetRef ? [spec.targetRef] : [];
}

/** Istio's ShouldAttachPolicy for sidecars and gateways (waypoint targets never attach here). */
export function attaches(r: Resource, labels: Readonly<Record<string, string>>, namespace: string): boolean {
  const spec = (r.spec ?? {}) as PolicyTargets;
  const refs = targetRefsOf(spec);
  const gatewayName = labels[GATEWAY_NAME_LABEL];
  if (gatewayName === undefined) return refs.length === 0 && selects(spec.selector?.matchLabels, labels);
  if (refs.length === 0) return selects(spec.selector?.matchLabels, labels);
  if ((r.metadata.namespace ?? 'default') !== namespace) return false;
  return refs.some(
    (t) => t.kind === 'Gateway' && (t.group ?? '') === 'gateway.networking.k8s.io' && t.name === gatewayName,
  );
}

/** The policies of `kind` that apply to the proxy, root namespace first, each in snapshot order. */
export function policiesFor(scope: ProxyScope, kind: string): Resource[] {
  const ns = scope.proxy.namespace;
  const root = scope.push.mesh.rootNamespace;
  const all = scope.push.snapshot.byKind(kind);
  const out: Resource[] = [];
  for (const want of root === ns ? [ns] : [root, ns])
    for (const r of all)
      if ((r.metadata.namespace ?? 'default') === want && attaches(r, scope.proxy.labels, ns)) out.push(r);
  return out;
}
