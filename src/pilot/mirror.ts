// VirtualService mirror/mirrors → Envoy request mirror policies.
import type { HTTPRoute } from '../api/kinds/networking/virtual-service.js';
import type { Destination } from '../api/kinds/networking/virtual-service.js';
import type { envoy_config_route_v3_RouteAction_RequestMirrorPolicy as RequestMirrorPolicy } from '../xds/envoy-types.js';
import { fractionalPercent } from './envoy.js';

/** The RequestMirrorPolicy list of a rule (empty when it mirrors nothing). Default percentage 100. */
export function translateMirrors(
  rule: HTTPRoute,
  clusterOf: (d: Destination) => string | null,
): RequestMirrorPolicy[] {
  const out: RequestMirrorPolicy[] = [];
  const add = (d: Destination, pct: number | undefined): void => {
    const cluster = clusterOf(d);
    if (!cluster) return;
    const p: RequestMirrorPolicy = { cluster };
    const value = pct ?? 100;
    if (value < 100) p.runtimeFraction = { defaultValue: fractionalPercent(value) };
    out.push(p);
  };
  if (rule.mirror) add(rule.mirror, rule.mirrorPercentage?.value ?? rule.mirrorPercent);
  for (const m of rule.mirrors ?? []) add(m.destination, m.percentage?.value);
  return out;
}
