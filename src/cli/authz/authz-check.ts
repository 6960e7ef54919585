// `mizzen x authz check`: the authorization a proxy enforces, read from its config dump (the Envoy
// RBAC filters on its inbound or gateway listeners), as istioctl x authz check prints it.
import { describePolicy } from './describe-rbac.js';

const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NET_RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const JWT = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';

/** One RBAC policy (one rule of an AuthorizationPolicy) found on a listener. */
export interface FoundRule {
  readonly action: string;
  /** `name.namespace` of the AuthorizationPolicy. */
  readonly policy: string;
  readonly rule: number;
  readonly dryRun: boolean;
  /** `HTTP` or `TCP`, and the listener/chain it sits on. */
  readonly where: string;
  readonly text: string;
}

const ISTIO_NAME = /^ns\[(.*)\]-policy\[(.*)\]-rule\[(\d+)\]$/;
const ACTIONS: Record<string, string> = { ALLOW: 'ALLOW', DENY: 'DENY', LOG: 'AUDIT' };

function rulesOf(rbac: any, where: string, dryRun: boolean, out: FoundRule[]): void {
  if (!rbac) return;
  for (const [name, policy] of Object.entries((rbac.policies ?? {}) as Record<string, any>)) {
    const m = ISTIO_NAME.exec(name);
    out.push({
      action: ACTIONS[String(rbac.action ?? 'ALLOW')] ?? String(rbac.action),
      policy: m ? `${m[2]}.${m[1]}` : name,
      rule: m ? Number(m[3]) : 0,
      dryRun,
      where,
      text: describePolicy(policy),
    });
  }
}

/** Every RBAC rule and JWT issuer on the listeners of a config dump. */
export function collectAuthz(listeners: readonly any[]): { rules: FoundRule[]; issuers: Set<string> } {
  const rules: FoundRule[] = [];
  const issuers = new Set<string>();
  for (const l of listeners) {
    for (const chain of l?.filterChains ?? []) {
      const port = chain.filterChainMatch?.destinationPort?.value ?? l.address?.socketAddress?.portValue;
      for (const f of chain.filters ?? []) {
        const tc = f.typedConfig ?? {};
        if (tc['@type'] === NET_RBAC) {
          rulesOf(tc.rules, `TCP ${port}`, false, rules);
          rulesOf(tc.shadowRules, `TCP ${port}`, true, rules);
        }
        if (tc['@type'] !== HCM) continue;
        for (const h of tc.httpFilters ?? []) {
          const hc = h.typedConfig ?? {};
          if (hc['@type'] === HTTP_RBAC) {
            rulesOf(hc.rules, `HTTP ${port}`, false, rules);
            rulesOf(hc.shadowRules, `HTTP ${port}`, true, rules);
          } else if (hc['@type'] === JWT)
            for (const p of Object.values((hc.providers ?? {}) as Record<string, any>))
              issuers.add(String(p.issuer));
        }
      }
    }
  }
  return { rules, issuers };
}

/** The table istioctl prints (ACTION, AuthorizationPolicy, RULES) and then each effective rule. */
export function formatAuthzCheck(listeners: readonly any[]): string {
  const { rules, issuers } = collectAuthz(listeners);
  const lines: string[] = [];
  const withRbac = listeners.filter((l) => JSON.stringify(l).includes('.rbac.v3.RBAC')).length;
  lines.push(`Checked ${withRbac}/${listeners.length} listeners with RBAC filter(s).`);
  const byPolicy = new Map<string, { action: string; rules: Set<number>; dryRun: boolean }>();
  for (const r of rules) {
    const k = `${r.action}\0${r.policy}`;
    const e = byPolicy.get(k) ?? { action: r.action, rules: new Set<number>(), dryRun: r.dryRun };
    e.rules.add(r.rule);
    byPolicy.set(k, e);
  }
  const rows = [['ACTION', 'AuthorizationPolicy', 'RULES']];
  for (const [k, e] of byPolicy)
    rows.push([e.dryRun ? `${e.action} (dry-run)` : e.action, k.split('\0')[1], String(e.rules.size)]);
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) lines.push(`${r[0].padEnd(w[0])}   ${r[1].padEnd(w[1])}   ${r[2]}`);
  if (issuers.size > 0) lines.push('', `JWT issuers verified: ${[...issuers].sort().join(', ')}`);
  if (rules.length > 0) {
    lines.push('', 'Effective rules:');
    const seen = new Set<string>();
    for (const r of rules) {
      const line = `  ${r.action.padEnd(5)} ${r.policy} rule[${r.rule}] on ${r.where}: ${r.text}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  return lines.join('\n');
}
