// The AuthorizationPolicies of a proxy → Envoy RBAC filters (HTTP and network), one per action in
// Istio's order: AUDIT (LOG), DENY, ALLOW; dry-run policies as shadow rules. CUSTOM is built by
// ext-authz-filters.ts and goes in front of these.
import type { AuthorizationPolicy } from '../../api/kinds/security/authorization-policy.js';
import { DRY_RUN_ANNOTATION } from '../../api/kinds/security/dry-run.js';
import type {
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_rbac_v3_Policy as Policy,
  envoy_config_rbac_v3_RBAC as Rbac,
  envoy_extensions_filters_http_rbac_v3_RBAC as HttpRbac,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilter,
  envoy_extensions_filters_network_rbac_v3_RBAC as NetworkRbac,
} from '../../xds/envoy-types.js';
import { anyOf, TYPES } from '../envoy.js';
import { buildRbacPolicy, MATCH_NEVER, type BuildAction } from './rbac-policy.js';
import { HttpOnlyError } from './attributes.js';

export const HTTP_RBAC = 'envoy.filters.http.rbac';
export const NETWORK_RBAC = 'envoy.filters.network.rbac';

/** Istio's shadow stat prefixes of dry-run ALLOW and DENY policies. */
const SHADOW_PREFIX: Record<BuildAction, string> = {
  ALLOW: 'istio_dry_run_allow_',
  DENY: 'istio_dry_run_deny_',
  LOG: '',
};

/** `ns[default]-policy[deny-admin]-rule[0]`: the name access logs and stats show. */
export function rbacPolicyName(namespace: string, name: string, rule: number): string {
  return `ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

/** True when the policy carries `istio.io/dry-run: "true"` (Go's ParseBool spellings). */
export function isDryRun(p: AuthorizationPolicy): boolean {
  const v = p.metadata.annotations?.[DRY_RUN_ANNOTATION];
  return v === 'true' || v === '1' || v === 't' || v === 'T' || v === 'TRUE' || v === 'True';
}

/** Enforced and shadow RBAC of one action; null when no policy has that action. */
interface ActionRules {
  readonly rules: Rbac | null;
  readonly shadow: Rbac | null;
  readonly action: BuildAction;
}

function buildAction(
  policies: readonly AuthorizationPolicy[],
  action: BuildAction,
  forTCP: boolean,
): ActionRules | null {
  if (policies.length === 0) return null;
  const enforce: Record<string, Policy> = {};
  const shadow: Record<string, Policy> = {};
  let hasEnforce = false;
  let hasShadow = false;
  for (const p of policies) {
    const dry = isDryRun(p);
    const into = dry ? shadow : enforce;
    if (dry) hasShadow = true;
    else hasEnforce = true;
    const ns = p.metadata.namespace ?? 'default';
    const rules = p.spec?.rules;
    if (!rules || rules.length === 0) {
      into[rbacPolicyName(ns, p.metadata.name, 0)] = MATCH_NEVER;
      continue;
    }
    rules.forEach((r, i) => {
      try {
        into[rbacPolicyName(ns, p.metadata.name, i)] = buildRbacPolicy(r, ns, forTCP, action);
      } catch (e) {
        // An ALLOW rule needing HTTP attributes on TCP (or an invalid rule) is left out, as in Istio.
        if (!(e instanceof HttpOnlyError)) return;
      }
    });
  }
  return {
    action,
    rules: hasEnforce ? { action, policies: enforce } : null,
    shadow: hasShadow ? { action, policies: shadow } : null,
  };
}

/** The policies split by action in Istio's evaluation order (AUDIT, DENY, ALLOW; CUSTOM is separate). */
function byAction(policies: readonly AuthorizationPolicy[]): [AuthorizationPolicy[], BuildAction][] {
  const of = (a: string): AuthorizationPolicy[] => policies.filter((p) => (p.spec?.action ?? 'ALLOW') === a);
  return [
    [of('AUDIT'), 'LOG'],
    [of('DENY'), 'DENY'],
    [of('ALLOW'), 'ALLOW'],
  ];
}

/** The RBAC filter config of one action (the HTTP and network messages share these fields). */
function rbacConfig(r: ActionRules): HttpRbac & NetworkRbac {
  const cfg: HttpRbac & NetworkRbac = {};
  if (r.rules) cfg.rules = r.rules;
  if (r.shadow) {
    cfg.shadowRules = r.shadow;
    if (SHADOW_PREFIX[r.action]) cfg.shadowRulesStatPrefix = SHADOW_PREFIX[r.action];
  }
  return cfg;
}

/** The envoy.filters.http.rbac filters for an HTTP filter chain (none when no policy applies). */
export function buildHttpRbacFilters(policies: readonly AuthorizationPolicy[]): HttpFilter[] {
  const out: HttpFilter[] = [];
  for (const [ps, action] of byAction(policies)) {
    const r = buildAction(ps, action, false);
    if (r) out.push({ name: HTTP_RBAC, typedConfig: anyOf(TYPES.HTTP_RBAC, rbacConfig(r)) });
  }
  return out;
}

/** The envoy.filters.network.rbac filters for a TCP filter chain (stats under `tcp.rbac.`). */
export function buildNetworkRbacFilters(policies: readonly AuthorizationPolicy[]): Filter[] {
  const out: Filter[] = [];
  for (const [ps, action] of byAction(policies)) {
    const r = buildAction(ps, action, true);
    if (r)
      out.push({
        name: NETWORK_RBAC,
        typedConfig: anyOf(TYPES.NETWORK_RBAC, { statPrefix: 'tcp.', ...rbacConfig(r) }),
      });
  }
  return out;
}
