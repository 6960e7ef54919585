// virtualservice.GatewayAnalyzer: named gateways exist, and each VirtualService host is served by them.
import type { Resource } from '../../api/resource.js';
import { didYouMean } from '../../api/suggest.js';
import { field, type AnalysisContext, type Analyzer } from '../analyzer.js';
import { hostsIntersect, toFqdn } from '../hosts.js';
import { MESSAGES } from '../messages.js';
import type { GatewaySpec } from '../../api/kinds/networking/gateway.js';
import { gatewayRefs, resolveGateway, vsSpec } from '../virtual-service-walk.js';

/** Reports missing gateways (IST0101) and VirtualService hosts no server of the gateway accepts (IST0132). */
export const virtualServiceGatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks that VirtualServices name existing gateways whose servers accept their hosts',
  analyze(ctx) {
    for (const r of ctx.index.ofKind('VirtualService')) {
      const vs = vsSpec(r);
      const ns = r.metadata.namespace ?? 'default';
      const checked = new Set<string>();
      for (const g of gatewayRefs(vs)) {
        if (g.ref === 'mesh') continue;
        const { namespace, name } = resolveGateway(g.ref, ns);
        const gw = ctx.index.find('Gateway', namespace, name);
        if (!gw) {
          const names = ctx.index.ofKind('Gateway').filter((x) => x.metadata.namespace === namespace);
          ctx.report(
            MESSAGES.ReferencedResourceNotFound,
            r,
            field(g.holder, g.index, g.path),
            `Referenced gateway not found: ${JSON.stringify(g.ref)}${didYouMean(
              name,
              names.map((x) => x.metadata.name),
            )}`,
          );
          continue;
        }
        const key = `${namespace}/${name}`;
        if (g.path.startsWith('spec.gateways') && !checked.has(key)) {
          checked.add(key);
          checkHosts(ctx, r, gw);
        }
      }
    }
  },
};

function checkHosts(ctx: AnalysisContext, r: Resource, gw: Resource): void {
  const vs = vsSpec(r);
  const ns = r.metadata.namespace ?? 'default';
  const gwNs = gw.metadata.namespace ?? 'default';
  const accepted: string[] = [];
  for (const server of ((gw.spec ?? {}) as GatewaySpec).servers ?? []) {
    for (const h of server.hosts ?? []) {
      const slash = h.indexOf('/');
      const hostNs = slash >= 0 ? h.slice(0, slash) : '*';
      const host = slash >= 0 ? h.slice(slash + 1) : h;
      if (hostNs === '*' || (hostNs === '.' ? gwNs === ns : hostNs === ns)) accepted.push(host.toLowerCase());
    }
  }
  const hosts = vs.hosts ?? [];
  hosts.forEach((h, i) => {
    const fqdn = toFqdn(h, ns);
    if (accepted.some((a) => hostsIntersect(a, fqdn) || hostsIntersect(a, h.toLowerCase()))) return;
    ctx.report(
      MESSAGES.VirtualServiceHostNotFoundInGateway,
      r,
      field(hosts, i, `spec.hosts[${i}]`),
      `one or more host [${h}] defined in VirtualService ${ns}/${r.metadata.name} not found in Gateway ${gwNs}/${gw.metadata.name}.`,
    );
  });
}
