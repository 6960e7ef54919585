// One Envoy RBAC (rules or shadow rules) evaluated policy by policy for a described request with the
// proxy's own engine. Conditions on the JWT payload (Istio's request.auth.*: metadata of
// envoy.filters.http.jwt_authn) are not decided: each is tried true and false, and a policy whose
// outcome changes with them "depends on the request's token".
import { RbacEngine } from '../../proxy/rbac/rbac-engine.js';
import type { RbacInput } from '../../proxy/rbac/rbac-input.js';
import type { envoy_config_rbac_v3_RBAC } from '../../xds/envoy-types.js';
import { JWT_AUTHN } from '../authn/jwt-filter.js';
import type { Envoy } from '../envoy.js';
import { arr, obj } from './shape.js';

/** Whether one policy matches: yes, no, or only for some tokens. */
export type PolicyMatch = 'yes' | 'no' | 'token';

/** One named policy of an RBAC and how it fared. */
export interface PolicyOutcome {
  /** The Envoy policy name, e.g. `ns[default]-policy[deny-admin]-rule[0]`. */
  readonly id: string;
  readonly match: PolicyMatch;
  /** Whether it matches a request that carries no token at all (the engine run as is). */
  readonly matchesWithoutToken: boolean;
}

/** An RBAC message evaluated: its action and every policy in the engine's (name) order. */
export interface RbacOutcome {
  readonly action: 'ALLOW' | 'DENY' | 'LOG';
  readonly policies: readonly PolicyOutcome[];
  /** Why the proxy could not compile it (it would reject the listener); absent normally. */
  readonly error?: string;
}

/** More JWT conditions than this in one policy are not enumerated (2^n engines). */
const MAX_TOKEN_CONDITIONS = 10;

/** Canonical RBAC JSON as the generated Envoy type the proxy's engine compiles. */
function asRbac(x: Envoy): envoy_config_rbac_v3_RBAC {
  return x;
}

function engine(action: string, id: string, policy: Envoy): RbacEngine {
  return new RbacEngine(asRbac({ action, policies: { [id]: policy } }));
}

function isTokenLeaf(n: Envoy): boolean {
  return obj(n.metadata).filter === JWT_AUTHN;
}

/** Counts the token conditions under a permission or principal tree. */
function countLeaves(n: Envoy): number {
  if (isTokenLeaf(n)) return 1;
  let k = 0;
  for (const key of ['andRules', 'orRules', 'andIds', 'orIds'])
    if (n[key]) k += arr(obj(n[key]).rules ?? obj(n[key]).ids).reduce((s, c) => s + countLeaves(c), 0);
  for (const key of ['notRule', 'notId']) if (n[key]) k += countLeaves(obj(n[key]));
  return k;
}

/** A copy of the tree with token condition i replaced by bit i of `bits` (constant true/false). */
function substitute(n: Envoy, principal: boolean, bits: number, next: { i: number }): Envoy {
  if (isTokenLeaf(n)) {
    const on = (bits >> next.i++) & 1;
    if (on) return { any: true };
    return principal ? { notId: { any: true } } : { notRule: { any: true } };
  }
  const out: Envoy = { ...n };
  for (const [key, list] of [
    ['andRules', 'rules'],
    ['orRules', 'rules'],
    ['andIds', 'ids'],
    ['orIds', 'ids'],
  ] as const)
    if (n[key])
      out[key] = { [list]: arr(obj(n[key])[list]).map((c) => substitute(c, principal, bits, next)) };
  if (n.notRule) out.notRule = substitute(obj(n.notRule), principal, bits, next);
  if (n.notId) out.notId = substitute(obj(n.notId), principal, bits, next);
  return out;
}

function substitutePolicy(p: Envoy, bits: number): Envoy {
  const next = { i: 0 };
  return {
    ...p,
    permissions: arr(p.permissions).map((x) => substitute(x, false, bits, next)),
    principals: arr(p.principals).map((x) => substitute(x, true, bits, next)),
  };
}

/** Evaluates one policy: every assignment of its token conditions through the proxy's engine. */
function evaluatePolicy(action: string, id: string, p: Envoy, input: RbacInput): PolicyOutcome {
  const matchesWithoutToken = engine(action, id, p).matchedPolicy(input) !== '';
  const k = [...arr(p.permissions), ...arr(p.principals)].reduce((s, c) => s + countLeaves(c), 0);
  if (k === 0) return { id, match: matchesWithoutToken ? 'yes' : 'no', matchesWithoutToken };
  if (k > MAX_TOKEN_CONDITIONS) return { id, match: 'token', matchesWithoutToken };
  let some = false;
  let all = true;
  for (let bits = 0; bits < 1 << k; bits++) {
    const m = engine(action, id, substitutePolicy(p, bits)).matchedPolicy(input) !== '';
    some ||= m;
    all &&= m;
  }
  return { id, match: all ? 'yes' : some ? 'token' : 'no', matchesWithoutToken };
}

/** Evaluates every policy of a canonical envoy.config.rbac.v3.RBAC for `input`. */
export function evaluateRbac(rbac: Envoy, input: RbacInput): RbacOutcome {
  const action = String(rbac.action ?? 'ALLOW');
  const act = action === 'DENY' ? 'DENY' : action === 'LOG' ? 'LOG' : 'ALLOW';
  const policies = obj(rbac.policies);
  try {
    // The whole engine first: what the proxy would reject, it rejects here too.
    new RbacEngine(asRbac(rbac));
    const ids = Object.keys(policies).sort();
    return { action: act, policies: ids.map((id) => evaluatePolicy(action, id, obj(policies[id]), input)) };
  } catch (e) {
    return { action: act, policies: [], error: (e as Error).message };
  }
}
