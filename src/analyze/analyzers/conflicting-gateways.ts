// gateway.ConflictingGatewayAnalyzer: two Gateways on the same workloads, port and hosts.
import type { Resource } from '../../api/resource.js';
import { field, type Analyzer } from '../analyzer.js';
import { hostsIntersect } from '../hosts.js';
import { nonEmpty, selectorString } from '../labels.js';
import { MESSAGES } from '../messages.js';
import type { GatewaySpec, Server } from '../../api/kinds/networking/gateway.js';

interface ServerRef {
  readonly r: Resource;
  readonly server: Server;
  readonly index: number;
  readonly hosts: string[];
}

/** Reports servers of different Gateways with the same selector, port, bind address and overlapping hosts (IST0145). */
export const conflictingGatewaysAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: 'Checks that no two Gateways claim the same workload, port and host',
  analyze(ctx) {
    const groups = new Map<string, ServerRef[]>();
    for (const r of ctx.index.ofKind('Gateway')) {
      const spec = (r.spec ?? {}) as GatewaySpec;
      if (!nonEmpty(spec.selector)) continue;
      (spec.servers ?? []).forEach((server, index) => {
        const port = server.port?.number;
        if (port === undefined) return;
        const k = `${selectorString(spec.selector)}|${port}|${server.bind ?? ''}`;
        const hosts = (server.hosts ?? []).map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h));
        groups.set(k, [...(groups.get(k) ?? []), { r, server, index, hosts }]);
      });
    }
    for (const [k, servers] of groups) {
      const [selector, port] = k.split('|');
      for (const s of servers) {
        const others = servers.filter(
          (o) => o.r !== s.r && o.hosts.some((h) => s.hosts.some((x) => hostsIntersect(h, x))),
        );
        if (others.length === 0) continue;
        const names = [
          ...new Set(others.map((o) => `${o.r.metadata.namespace ?? 'default'}/${o.r.metadata.name}`)),
        ];
        ctx.report(
          MESSAGES.ConflictingGateways,
          s.r,
          field(s.server.port, 'number', `spec.servers[${s.index}].port.number`),
          `Conflict with gateways ${names.sort().join(',')} (workload selector ${selector}, port ${port}, hosts ${s.hosts.join(',')}).`,
        );
      }
    }
  },
};
