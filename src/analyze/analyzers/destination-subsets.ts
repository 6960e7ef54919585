// virtualservice.DestinationRuleAnalyzer: every subset a route or mirror names is defined by a DestinationRule.
import { didYouMean } from '../../api/suggest.js';
import { field, type Analyzer } from '../analyzer.js';
import { hostMatches, toFqdn, visibleFrom } from '../hosts.js';
import { MESSAGES } from '../messages.js';
import type { DestinationRuleSpec } from '../../api/kinds/networking/destination-rule.js';
import { destinations, vsSpec } from '../virtual-service-walk.js';

/** Reports a destination subset that no DestinationRule for its host defines (IST0101). */
export const destinationSubsetAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks that every destination subset is defined in a DestinationRule for its host',
  analyze(ctx) {
    const rules = ctx.index.ofKind('DestinationRule').map((r) => {
      const spec = (r.spec ?? {}) as DestinationRuleSpec;
      const ns = r.metadata.namespace ?? 'default';
      return { ns, spec, host: toFqdn(spec.host ?? '', ns) };
    });
    for (const r of ctx.index.ofKind('VirtualService')) {
      const ns = r.metadata.namespace ?? 'default';
      for (const d of destinations(vsSpec(r))) {
        const { host, subset } = d.destination;
        if (!host || !subset) continue;
        const fqdn = toFqdn(host, ns);
        const defined = rules
          .filter(
            (dr) => dr.host !== '' && hostMatches(dr.host, fqdn) && visibleFrom(dr.ns, dr.spec.exportTo, ns),
          )
          .flatMap((dr) => (dr.spec.subsets ?? []).map((s) => s.name ?? ''));
        if (defined.includes(subset)) continue;
        const known =
          defined.length === 0
            ? '; no DestinationRule for this host defines subsets'
            : `${subset.length > 2 ? didYouMean(subset, defined) : ''}; defined subsets: ${defined.join(', ')}`;
        ctx.report(
          MESSAGES.ReferencedResourceNotFound,
          r,
          field(d.destination, 'subset', `${d.path}.subset`),
          `Referenced host+subset in destinationrule not found: "${host}+${subset}"${known}`,
        );
      }
    }
  },
};
