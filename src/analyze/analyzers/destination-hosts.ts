// virtualservice.DestinationHostAnalyzer: route and mirror hosts exist, and their ports are on the service.
import type { Resource } from '../../api/resource.js';
import { didYouMean } from '../../api/suggest.js';
import { field, type AnalysisContext, type Analyzer } from '../analyzer.js';
import { likelyMeant, toFqdn } from '../hosts.js';
import { MESSAGES } from '../messages.js';
import type { MeshService } from '../mesh-index.js';
import { boundToMesh, destinations, vsSpec, type DestinationRef } from '../virtual-service-walk.js';
import { isIP } from 'node:net';

/** Reports destinations whose host no Service or ServiceEntry provides (IST0101), or whose port is wrong. */
export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks that every route and mirror destination names an existing service and port',
  analyze(ctx) {
    if (!ctx.index.hasServices) return;
    for (const r of ctx.index.ofKind('VirtualService')) {
      const vs = vsSpec(r);
      const ns = r.metadata.namespace ?? 'default';
      const gatewayOnly = !boundToMesh(vs);
      for (const d of destinations(vs)) {
        const host = d.destination.host;
        if (!host || isIP(host) !== 0) continue;
        const svc = ctx.index.findService(toFqdn(host, ns), ns);
        if (!svc) {
          const what = d.role === 'mirror' ? 'mirror host' : 'host';
          ctx.report(
            MESSAGES.ReferencedResourceNotFound,
            r,
            field(d.destination, 'host', `${d.path}.host`),
            `Referenced ${what} not found: ${JSON.stringify(host)}${hostHint(ctx, host, ns)}`,
          );
          continue;
        }
        checkPort(ctx, r, d, svc, gatewayOnly);
      }
    }
  },
};

function checkPort(
  ctx: AnalysisContext,
  r: Resource,
  d: DestinationRef,
  svc: MeshService,
  gatewayOnly: boolean,
): void {
  const port = d.destination.port?.number;
  const numbers = svc.ports.map((p) => p.number);
  if (port === undefined) {
    // On sidecars the listener port picks the service port; on a gateway nothing does.
    if (gatewayOnly && numbers.length > 1) {
      ctx.report(
        MESSAGES.VirtualServiceDestinationPortSelectorRequired,
        r,
        field(d.destination, 'host', `${d.path}.host`),
        `This VirtualService routes to a service ${JSON.stringify(d.destination.host)} that exposes multiple ports [${numbers.join(' ')}]. Specifying a port in the destination is required to disambiguate.`,
      );
    }
    return;
  }
  if (numbers.length > 0 && !numbers.includes(port)) {
    ctx.report(
      MESSAGES.ReferencedResourceNotFound,
      r,
      field(d.destination.port, 'number', `${d.path}.port.number`),
      `Referenced host:port not found: "${d.destination.host}:${port}"; ${resourceLabel(svc)} exposes ${numbers.join(', ')}`,
    );
  }
}

function resourceLabel(svc: MeshService): string {
  return `${svc.resource.kind} ${svc.namespace}/${svc.resource.metadata.name}`;
}

/** A suggestion for a host that was not found: the `name.namespace` mistake, or a close service name. */
export function hostHint(ctx: AnalysisContext, host: string, ns: string): string {
  const meant = likelyMeant(host);
  if (meant && ctx.index.findService(meant, ns))
    return `; did you mean "${meant}"? (Istio expands only names without dots)`;
  const names: string[] = [];
  for (const s of ctx.index.services) {
    for (const h of s.hosts) {
      names.push(h);
      if (s.namespace === ns && s.resource.kind === 'Service') names.push(s.resource.metadata.name);
    }
  }
  return didYouMean(host, names);
}
