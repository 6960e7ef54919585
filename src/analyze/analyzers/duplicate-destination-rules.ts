// Two DestinationRules for one host in one namespace: Istio merges them, which is rarely what was meant.
import type { Resource } from '../../api/resource.js';
import { field, type Analyzer } from '../analyzer.js';
import { toFqdn } from '../hosts.js';
import { selectorString } from '../labels.js';
import { MESSAGES } from '../messages.js';
import type { DestinationRuleSpec } from '../../api/kinds/networking/destination-rule.js';

/**
 * Istio merges same-namespace DestinationRules for one host (and the same workloadSelector): subsets are
 * combined, but only the first rule's top-level traffic policy is used and a repeated subset name keeps
 * the first definition. Each later rule gets a warning naming the first.
 */
export const duplicateDestinationRulesAnalyzer: Analyzer = {
  name: 'destinationrule.DuplicateHostAnalyzer',
  description: 'Checks that each host has at most one DestinationRule per namespace',
  analyze(ctx) {
    const first = new Map<string, Resource>();
    for (const r of ctx.index.ofKind('DestinationRule')) {
      const spec = (r.spec ?? {}) as DestinationRuleSpec;
      if (!spec.host) continue;
      const ns = r.metadata.namespace ?? 'default';
      const fqdn = toFqdn(spec.host, ns);
      const k = `${ns}|${fqdn}|${selectorString(spec.workloadSelector?.matchLabels)}`;
      const earlier = first.get(k);
      if (!earlier) {
        first.set(k, r);
        continue;
      }
      const e = (earlier.spec ?? {}) as DestinationRuleSpec;
      const names = new Set((e.subsets ?? []).map((s) => s.name));
      const repeated = (spec.subsets ?? []).map((s) => s.name).filter((n) => n !== undefined && names.has(n));
      ctx.report(
        MESSAGES.MultipleDestinationRulesForHost,
        r,
        field(spec, 'host', 'spec.host'),
        `DestinationRule ${ns}/${earlier.metadata.name} already configures host ${fqdn}; Istio merges the two (first one's trafficPolicy wins${repeated.length ? `, subsets ${repeated.join(', ')} keep the first definition` : ''}). Put all settings for a host in one DestinationRule.`,
      );
    }
  },
};
