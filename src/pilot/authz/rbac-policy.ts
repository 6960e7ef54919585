// One AuthorizationPolicy rule → one Envoy RBAC Policy (permissions OR-ed per `to`, principals per
// `from`, `when` conditions AND-ed into both), as Istio's authz model builds it.
import type { Rule } from '../../api/kinds/security/authorization-policy.js';
import type { envoy_config_rbac_v3_Policy as Policy } from '../../xds/envoy-types.js';
import {
  ATTRIBUTES,
  attributeForKey,
  HttpOnlyError,
  serviceAccountAttribute,
  type Attribute,
  type RbacMatcher,
} from './attributes.js';

/** One attribute with its values and notValues. */
interface Term {
  readonly key: string;
  readonly attr: Attribute;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
}

/** Terms AND-ed into one permission or principal. */
type TermList = Term[];

function term(key: string, attr: Attribute, values?: string[], notValues?: string[]): Term | null {
  if (!values?.length && !notValues?.length) return null;
  return { key, attr, values: values ?? [], notValues: notValues ?? [] };
}

/** The RBAC action a policy is built for: ALLOW drops a rule with HTTP-only fields on TCP; DENY/LOG ignore them. */
export type BuildAction = 'ALLOW' | 'DENY' | 'LOG';

function build(t: Term, forTCP: boolean, action: BuildAction): RbacMatcher[] {
  const out: RbacMatcher[] = [];
  const side = t.attr.side;
  const not = (e: RbacMatcher): RbacMatcher => (side === 'permission' ? { notRule: e } : { notId: e });
  try {
    if (t.values.length > 0) out.push(t.attr.build(t.key, t.values, forTCP));
    if (t.notValues.length > 0) out.push(not(t.attr.build(t.key, t.notValues, forTCP)));
  } catch (e) {
    if (e instanceof HttpOnlyError && action !== 'ALLOW') return [];
    throw e;
  }
  return out;
}

function and(
  terms: TermList,
  side: 'permission' | 'principal',
  forTCP: boolean,
  action: BuildAction,
): RbacMatcher {
  const parts = terms.flatMap((t) => build(t, forTCP, action));
  if (side === 'permission') return { andRules: { rules: parts.length > 0 ? parts : [{ any: true }] } };
  return { andIds: { ids: parts.length > 0 ? parts : [{ any: true }] } };
}

/**
 * Translates one rule for an HTTP or TCP filter chain. Throws HttpOnlyError when an ALLOW rule needs
 * HTTP attributes on TCP (Istio then leaves the rule out, so it never allows).
 */
export function buildRbacPolicy(
  rule: Rule,
  policyNamespace: string,
  forTCP: boolean,
  action: BuildAction,
): Policy {
  const basePerm: TermList = [];
  const basePrinc: TermList = [];
  for (const w of rule.when ?? []) {
    const attr = attributeForKey(w.key);
    if (!attr) throw new Error(`unknown attribute ${w.key}`);
    const t = term(w.key, attr, w.values, w.notValues);
    if (t) (attr.side === 'permission' ? basePerm : basePrinc).push(t);
  }
  const principals: TermList[] = (rule.from ?? []).map((f) => {
    const s = f.source;
    const front = [
      term('source.principal', ATTRIBUTES['source.principal'], s.principals, s.notPrincipals),
      term(
        'request.auth.principal',
        ATTRIBUTES['request.auth.principal'],
        s.requestPrincipals,
        s.notRequestPrincipals,
      ),
      term(
        'source.serviceAccount',
        serviceAccountAttribute(policyNamespace),
        s.serviceAccounts,
        s.notServiceAccounts,
      ),
      term('source.namespace', ATTRIBUTES['source.namespace'], s.namespaces, s.notNamespaces),
      term('remote.ip', ATTRIBUTES['remote.ip'], s.remoteIpBlocks, s.notRemoteIpBlocks),
      term('source.ip', ATTRIBUTES['source.ip'], s.ipBlocks, s.notIpBlocks),
    ].filter((t): t is Term => t !== null);
    return [...front, ...basePrinc];
  });
  if (principals.length === 0) principals.push(basePrinc);
  const permissions: TermList[] = (rule.to ?? []).map((t) => {
    const o = t.operation;
    const front = [
      term(':authority', ATTRIBUTES[':authority'], o.hosts, o.notHosts),
      term(':method', ATTRIBUTES[':method'], o.methods, o.notMethods),
      term('path-matcher', ATTRIBUTES['path-matcher'], o.paths, o.notPaths),
      term('destination.port', ATTRIBUTES['destination.port'], o.ports, o.notPorts),
    ].filter((x): x is Term => x !== null);
    return [...front, ...basePerm];
  });
  if (permissions.length === 0) permissions.push(basePerm);
  return {
    permissions: permissions.map((p) => and(p, 'permission', forTCP, action)),
    principals: principals.map((p) => and(p, 'principal', forTCP, action)),
  };
}

/** Istio's policy matching nothing (`spec: {}` ALLOW, i.e. deny all). */
export const MATCH_NEVER: Policy = {
  permissions: [{ notRule: { any: true } }],
  principals: [{ notId: { any: true } }],
};
