// destinationrule.PodNotSelectedAnalyzer: the host is a known service, and each subset selects workloads.
import { field, type Analyzer } from '../analyzer.js';
import { isWildcard, toFqdn } from '../hosts.js';
import { selects } from '../labels.js';
import { MESSAGES } from '../messages.js';
import type { DestinationRuleSpec } from '../../api/kinds/networking/destination-rule.js';
import { hostHint } from './destination-hosts.js';

/**
 * A DestinationRule host that no Service or ServiceEntry provides (IST0174), and a subset whose labels,
 * together with the service's selector, match no workload or endpoint (IST0173: its traffic gets 503 UH).
 */
export const subsetWorkloadsAnalyzer: Analyzer = {
  name: 'destinationrule.PodNotSelectedAnalyzer',
  description: 'Checks that DestinationRule hosts exist and their subsets select workloads',
  analyze(ctx) {
    if (!ctx.index.hasServices) return;
    for (const r of ctx.index.ofKind('DestinationRule')) {
      const spec = (r.spec ?? {}) as DestinationRuleSpec;
      const ns = r.metadata.namespace ?? 'default';
      if (!spec.host) continue;
      const fqdn = toFqdn(spec.host, ns);
      if (isWildcard(fqdn)) continue;
      const svc = ctx.index.findService(fqdn, ns);
      if (!svc) {
        ctx.report(
          MESSAGES.UnknownDestinationRuleHost,
          r,
          field(spec, 'host', 'spec.host'),
          `The host ${spec.host} defined in the DestinationRule does not match any services in the mesh${hostHint(ctx, spec.host, ns)}`,
        );
        continue;
      }
      (spec.subsets ?? []).forEach((subset, i) => {
        let selected: boolean;
        if (svc.endpointLabels) selected = svc.endpointLabels.some((l) => selects(subset.labels, l));
        else if (svc.selector && ctx.index.hasWorkloads)
          selected = (ctx.index.serviceWorkloads(svc, subset.labels) ?? []).length > 0;
        else return;
        if (selected) return;
        const at = subset.labels
          ? field(subset, 'labels', `spec.subsets[${i}].labels`)
          : field(subset, 'name', `spec.subsets[${i}].name`);
        ctx.report(
          MESSAGES.DestinationRuleSubsetNotSelectPods,
          r,
          at,
          `The Subset ${subset.name ?? `#${i}`} defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
        );
      });
    }
  },
};
