// Where an Envoy RBAC policy came from: the AuthorizationPolicy and rule its Istio name encodes
// (`ns[NS]-policy[NAME]-rule[N]`, with `istio-ext-authz-<provider>-` in front for CUSTOM), located at
// the file:line:col the control plane loaded the rule from.
import { positionsOf } from '../../api/positions.js';
import { sourceOf } from '../../api/resource.js';
import type { AuthorizationPolicy } from '../../api/kinds/security/authorization-policy.js';
import type { PushContext } from '../push-context.js';

/** An AuthorizationPolicy rule, located. */
export interface AuthzPolicySource {
  /** `AuthorizationPolicy ns/name`, or the Envoy policy name when it is not Istio's. */
  readonly resource: string;
  /** Index into spec.rules (0 for a policy without rules). */
  readonly rule: number;
  /** True when the policy has no rules: ALLOW with `spec: {}` allows nothing. */
  readonly noRules?: boolean;
  /** The ext_authz provider of a CUSTOM policy. */
  readonly provider?: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

const NAME = /^(?:istio-ext-authz-(.+)-)?ns\[(.*)\]-policy\[(.*)\]-rule\[(\d+)\]/;

/** Locates the AuthorizationPolicy rule an RBAC policy name refers to. */
export function authzPolicySource(push: PushContext, id: string): AuthzPolicySource {
  const m = NAME.exec(id);
  if (!m) return { resource: id, rule: 0 };
  const [, provider, ns, name, rule] = m;
  const base = {
    resource: `AuthorizationPolicy ${ns}/${name}`,
    rule: Number(rule),
    ...(provider ? { provider } : {}),
  };
  const policy = (push.snapshot.byKind('AuthorizationPolicy') as AuthorizationPolicy[]).find(
    (p) => (p.metadata.namespace ?? 'default') === ns && p.metadata.name === name,
  );
  if (!policy) return base;
  const rules = policy.spec?.rules ?? [];
  const pos = rules.length > 0 ? positionsOf(rules)?.values.get(base.rule) : undefined;
  const src = pos ?? sourceOf(policy);
  return {
    ...base,
    ...(rules.length === 0 ? { noRules: true } : {}),
    ...(src ? { file: src.file, line: src.line, col: src.col } : {}),
  };
}

/** `AuthorizationPolicy ns/name rule[i] at file:line:col`. */
export function whereOfPolicy(s: AuthzPolicySource): string {
  const rule = s.noRules ? ' (no rules: matches nothing)' : ` rule[${s.rule}]`;
  const at = s.file ? ` at ${s.file}:${s.line ?? 0}:${s.col ?? 0}` : '';
  return `${s.resource}${rule}${at}`;
}
