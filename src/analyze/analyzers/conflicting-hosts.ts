// virtualservice.ConflictingMeshGatewayHostsAnalyzer, plus gateway VirtualServices whose merge hides rules.
import type { Resource } from '../../api/resource.js';
import { field, type AnalysisContext, type Analyzer } from '../analyzer.js';
import { toFqdn } from '../hosts.js';
import { MESSAGES } from '../messages.js';
import { boundToMesh, isCatchAllRule, resolveGateway, vsSpec } from '../virtual-service-walk.js';

/** One VirtualService claiming one host. */
interface Claim {
  readonly r: Resource;
  readonly index: number;
  readonly fqdn: string;
}

/**
 * Two mesh-bound VirtualServices for one host (IST0109: sidecars pick one arbitrarily); and, on a gateway,
 * a later VirtualService for a host whose earlier one has a catch-all rule (Istio merges gateway
 * VirtualServices in creation order, so the later rules never match).
 */
export const conflictingHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks that no two VirtualServices claim the same host for the same gateway',
  analyze(ctx) {
    const mesh = new Map<string, Claim[]>();
    const gateways = new Map<string, Claim[]>();
    for (const r of ctx.index.ofKind('VirtualService')) {
      const vs = vsSpec(r);
      const ns = r.metadata.namespace ?? 'default';
      const gws = new Set(
        (vs.gateways ?? []).filter((g) => g !== 'mesh').map((g) => key(resolveGateway(g, ns))),
      );
      (vs.hosts ?? []).forEach((h, index) => {
        const fqdn = toFqdn(h, ns);
        const claim = { r, index, fqdn };
        if (boundToMesh(vs)) push(mesh, fqdn, claim);
        for (const g of gws) push(gateways, `${g}|${fqdn}`, claim);
      });
    }
    for (const claims of mesh.values()) reportMesh(ctx, claims);
    for (const [k, claims] of gateways) reportShadowed(ctx, k.slice(0, k.indexOf('|')), claims);
  },
};

function key(g: { namespace: string; name: string }): string {
  return `${g.namespace}/${g.name}`;
}

function push(m: Map<string, Claim[]>, k: string, c: Claim): void {
  const list = m.get(k);
  if (!list) m.set(k, [c]);
  else if (!list.some((x) => x.r === c.r)) list.push(c);
}

function visibleTogether(a: Resource, b: Resource): boolean {
  const scope = (r: Resource): Set<string> | 'all' => {
    const e = vsSpec(r).exportTo;
    if (!e || e.length === 0 || e.includes('*')) return 'all';
    return new Set(e.map((x) => (x === '.' ? (r.metadata.namespace ?? 'default') : x)));
  };
  const sa = scope(a);
  const sb = scope(b);
  if (sa === 'all' || sb === 'all') return true;
  return [...sa].some((n) => sb.has(n));
}

function reportMesh(ctx: AnalysisContext, claims: Claim[]): void {
  if (claims.length < 2) return;
  for (const c of claims) {
    const others = claims.filter((o) => o !== c && visibleTogether(c.r, o.r));
    if (others.length === 0) continue;
    const names = [c, ...others]
      .map((x) => `${x.r.metadata.namespace ?? 'default'}/${x.r.metadata.name}`)
      .sort();
    const hosts = vsSpec(c.r).hosts!;
    ctx.report(
      MESSAGES.ConflictingMeshGatewayVirtualServiceHosts,
      c.r,
      field(hosts, c.index, `spec.hosts[${c.index}]`),
      `The VirtualServices ${names.join(',')} associated with mesh gateway define the same host ${c.fqdn} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
    );
  }
}

function reportShadowed(ctx: AnalysisContext, gateway: string, claims: Claim[]): void {
  const first = claims.find((c) => (vsSpec(c.r).http ?? []).some(isCatchAllRule));
  if (!first) return;
  for (const c of claims.slice(claims.indexOf(first) + 1)) {
    if ((vsSpec(c.r).http ?? []).length === 0) continue;
    const hosts = vsSpec(c.r).hosts!;
    ctx.report(
      MESSAGES.GatewayVirtualServiceHostsMerged,
      c.r,
      field(hosts, c.index, `spec.hosts[${c.index}]`),
      `host ${c.fqdn} on gateway ${gateway} is also bound by VirtualService ${first.r.metadata.namespace ?? 'default'}/${first.r.metadata.name}, which comes first and has a catch-all http rule; Istio merges gateway VirtualServices in creation order, so these http rules never match. Merge them into one VirtualService.`,
    );
  }
}
