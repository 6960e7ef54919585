// serviceentry.ProtocolAddressesAnalyzer: TCP ServiceEntries need addresses to be told apart.
import { field, type Analyzer } from '../analyzer.js';
import { MESSAGES } from '../messages.js';
import type { ServiceEntrySpec } from '../../api/kinds/networking/service-entry.js';

/**
 * A TCP (or protocol-less) port carries no Host header, so without `addresses` the proxy can only tell
 * ServiceEntries apart by port, and all such entries on one port collide (IST0134).
 */
export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.ProtocolAddressesAnalyzer',
  description: 'Checks that ServiceEntries with TCP ports declare addresses',
  analyze(ctx) {
    for (const r of ctx.index.ofKind('ServiceEntry')) {
      const spec = (r.spec ?? {}) as ServiceEntrySpec;
      if (spec.addresses && spec.addresses.length > 0) continue;
      const ports = spec.ports ?? [];
      ports.forEach((p, i) => {
        if (p.protocol !== undefined && p.protocol.toUpperCase() !== 'TCP') return;
        ctx.report(
          MESSAGES.ServiceEntryAddressesRequired,
          r,
          p.protocol !== undefined
            ? field(p, 'protocol', `spec.ports[${i}].protocol`)
            : field(ports, i, `spec.ports[${i}]`),
          'ServiceEntry addresses are required for this protocol.',
        );
      });
    }
  },
};
