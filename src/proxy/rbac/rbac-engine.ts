// envoy.config.rbac.v3.RBAC compiled: the action and its named policies, checked in name order.
import type { envoy_config_rbac_v3_RBAC as RbacConfig } from '../../xds/envoy-types.js';
import { compilePermission, compilePrincipal, type Predicate } from './rbac-matchers.js';
import type { RbacInput } from './rbac-input.js';

/** RBAC.Action. */
export const enum RbacAction {
  Allow = 0,
  Deny = 1,
  /** Never denies; marks matching traffic for the access log (Istio AUDIT). */
  Log = 2,
}

/** One policy: any permission AND any principal. */
interface CompiledPolicy {
  readonly name: string;
  readonly permission: Predicate;
  readonly principal: Predicate;
}

/** The outcome of one engine over one request or connection. */
export interface RbacDecision {
  /** Whether the engine lets the traffic through (Log always does). */
  readonly allowed: boolean;
  /** The first matching policy (by name), or '' when none matched. */
  readonly policy: string;
}

/** A compiled RBAC (rules or shadow rules). Immutable. */
export class RbacEngine {
  readonly action: RbacAction;
  private readonly policies: readonly CompiledPolicy[];

  /** Compiles a canonical RBAC message; throws Error naming the bad policy. */
  constructor(rbac: RbacConfig | null | undefined) {
    const a: string = rbac?.action ?? 'ALLOW';
    if (a !== 'ALLOW' && a !== 'DENY' && a !== 'LOG') throw new Error(`unknown RBAC action ${a}`);
    // Audit loggers (envoy.rbac.audit_loggers.*) are not implemented: refused, not left unread.
    if ((rbac?.auditLoggingOptions?.loggerConfigs ?? []).length > 0)
      throw new Error('auditLoggingOptions is not supported by this proxy');
    this.action = a === 'ALLOW' ? RbacAction.Allow : a === 'DENY' ? RbacAction.Deny : RbacAction.Log;
    const pol = rbac?.policies ?? {};
    this.policies = Object.keys(pol)
      .sort()
      .map((name) => {
        const p = pol[name];
        if (p?.condition || p?.checkedCondition)
          throw new Error(`policies[${name}]: CEL conditions are not supported`);
        try {
          const perms = (p?.permissions ?? []).map(compilePermission);
          const princ = (p?.principals ?? []).map(compilePrincipal);
          return {
            name,
            permission: (x: RbacInput) => perms.some((f) => f(x)),
            principal: (x: RbacInput) => princ.some((f) => f(x)),
          };
        } catch (e) {
          throw new Error(`policies[${name}]: ${(e as Error).message}`);
        }
      });
  }

  /** The first policy (by name) whose permissions and principals both match, or ''. */
  matchedPolicy(x: RbacInput): string {
    for (const p of this.policies) if (p.permission(x) && p.principal(x)) return p.name;
    return '';
  }

  /** Evaluates the engine: ALLOW lets through on a match, DENY on no match, LOG always. */
  evaluate(x: RbacInput): RbacDecision {
    const policy = this.matchedPolicy(x);
    const allowed =
      this.action === RbacAction.Allow
        ? policy !== ''
        : this.action === RbacAction.Deny
          ? policy === ''
          : true;
    return { allowed, policy };
  }
}
