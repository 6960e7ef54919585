// What one proxy sees: its workload, Sidecar, visible services (exportTo + Sidecar egress hosts),
// VirtualServices and DestinationRules, and the outbound traffic policy.
import type { MeshService, WorkloadInstance } from '../registry/model.js';
import { hostMatches } from '../registry/host.js';
import { visibleFrom } from '../registry/export-to.js';
import { selects } from '../registry/labels.js';
import type { Sidecar } from '../api/kinds/networking/sidecar.js';
import type { WorkloadGroup } from '../api/kinds/networking/workload-group.js';
import type { Proxy } from './proxy.js';
import type { DestinationRuleEntry, PushContext, VirtualServiceEntry } from './push-context.js';

/** One parsed Sidecar egress host: namespace part (`*`, a name, or `~` for none) and host pattern. */
interface EgressHost {
  readonly namespace: string;
  readonly host: string;
}

/** A proxy's view of the push context. */
export class ProxyScope {
  /** The proxy, with labels filled from its workload when it sent none. */
  readonly proxy: Proxy;
  /** The workload instance the proxy fronts (by name, else by IP); undefined for unknown proxies. */
  readonly workload: WorkloadInstance | undefined;
  /** The Sidecar resource that applies (workload-selected > namespace > root namespace), if any. */
  readonly sidecar: Sidecar | undefined;
  /** Services the proxy may reach, in registry order. */
  readonly services: readonly MeshService[];
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  private readonly egress: readonly EgressHost[] | null;
  private readonly drCache = new Map<string, DestinationRuleEntry | undefined>();

  constructor(
    readonly push: PushContext,
    proxy: Proxy,
  ) {
    const workload = push.registry.findWorkload(proxy.ip, proxy.namespace, proxy.name);
    this.workload = workload;
    this.proxy =
      Object.keys(proxy.labels).length === 0
        ? { ...proxy, labels: fallbackLabels(push, proxy, workload) }
        : proxy;
    this.sidecar = proxy.type === 'sidecar' ? selectSidecar(push, this.proxy) : undefined;
    this.egress = this.sidecar?.spec?.egress?.length ? parseEgress(this.sidecar) : null;
    const otp = this.sidecar?.spec?.outboundTrafficPolicy;
    // A Sidecar's outboundTrafficPolicy without a mode is REGISTRY_ONLY (the proto default); none at all = the mesh's.
    this.outboundTrafficPolicy = otp ? (otp.mode ?? 'REGISTRY_ONLY') : push.mesh.outboundTrafficPolicy;
    this.services = push.registry.services.filter((s) => this.serviceVisible(s));
  }

  /** True when the service is exported to the proxy's namespace and (for sidecars) in its egress hosts. */
  serviceVisible(svc: MeshService): boolean {
    if (svc.namespace !== this.proxy.namespace && !visibleFrom(svc.exportTo, this.proxy.namespace))
      return false;
    return this.inEgress(svc.namespace, [svc.hostname]);
  }

  /** The visible service for a host, or undefined. */
  service(hostname: string): MeshService | undefined {
    const s = this.push.registry.service(hostname, this.proxy.namespace);
    return s && this.serviceVisible(s) ? s : undefined;
  }

  /**
   * VirtualServices bound to one of `gateways` (`mesh` for sidecars, `ns/name` for gateways), exported
   * to the proxy's namespace and, for sidecars, within the Sidecar egress hosts.
   */
  virtualServices(gateways: ReadonlySet<string>): VirtualServiceEntry[] {
    return this.push.virtualServices.filter((vs) => this.seesVirtualService(vs, gateways));
  }

  /** Whether the VirtualService (of this or another push context) applies to this proxy; see {@link virtualServices}. */
  seesVirtualService(vs: VirtualServiceEntry, gateways: ReadonlySet<string>): boolean {
    if (![...vs.gateways].some((g) => gateways.has(g))) return false;
    if (vs.namespace !== this.proxy.namespace && !visibleFrom(vs.exportTo, this.proxy.namespace))
      return false;
    return this.inEgress(vs.namespace, vs.hosts);
  }

  /** The DestinationRule for a host: proxy namespace > service namespace > root namespace; exact > wildcard. */
  destinationRule(hostname: string): DestinationRuleEntry | undefined {
    if (this.drCache.has(hostname)) return this.drCache.get(hostname);
    const found = this.findDestinationRule(hostname);
    this.drCache.set(hostname, found);
    return found;
  }

  private findDestinationRule(hostname: string): DestinationRuleEntry | undefined {
    const rules = this.push.destinationRules;
    let candidates = rules.get(hostname);
    if (!candidates) {
      let best = '';
      for (const h of rules.keys())
        if (h.includes('*') && hostMatches(h, hostname) && h.length > best.length) best = h;
      candidates = best ? rules.get(best) : undefined;
    }
    if (!candidates) return undefined;
    const ns = this.proxy.namespace;
    const usable = candidates.filter((dr) => {
      const sel = dr.resource.spec.workloadSelector?.matchLabels;
      if (sel && (dr.namespace !== ns || !selects(sel, this.proxy.labels))) return false;
      return dr.namespace === ns || visibleFrom(dr.exportTo, ns);
    });
    const svcNs = this.push.registry.service(hostname, ns)?.namespace;
    return (
      usable.find((d) => d.namespace === ns && d.resource.spec.workloadSelector) ??
      usable.find((d) => d.namespace === ns) ??
      usable.find((d) => d.namespace === svcNs) ??
      usable.find((d) => d.namespace === this.push.mesh.rootNamespace) ??
      usable[0]
    );
  }

  private inEgress(namespace: string, hosts: readonly string[]): boolean {
    if (!this.egress) return true;
    return this.egress.some(
      (e) =>
        (e.namespace === '*' || e.namespace === namespace) &&
        hosts.some((h) => hostMatches(e.host, h) || (h.includes('*') && hostMatches(h, e.host))),
    );
  }
}

/** Labels of a proxy that sent none: its workload's, else its WorkloadGroup template's (AUTO_REGISTER_GROUP). */
function fallbackLabels(
  push: PushContext,
  proxy: Proxy,
  workload: WorkloadInstance | undefined,
): Readonly<Record<string, string>> {
  if (workload) return workload.labels;
  const group = proxy.metadata.AUTO_REGISTER_GROUP;
  if (typeof group !== 'string') return proxy.labels;
  const g = push.snapshot.get('WorkloadGroup', proxy.namespace, group) as WorkloadGroup | undefined;
  return { ...g?.spec?.metadata?.labels, ...g?.spec?.template?.labels };
}

function selectSidecar(push: PushContext, proxy: Proxy): Sidecar | undefined {
  const inNs = push.sidecars.filter((s) => (s.metadata.namespace ?? 'default') === proxy.namespace);
  const selected = inNs.find((s) => {
    const sel = s.spec?.workloadSelector?.labels;
    return sel && Object.keys(sel).length > 0 && selects(sel, proxy.labels);
  });
  if (selected) return selected;
  const nsWide = inNs.find((s) => !s.spec?.workloadSelector?.labels);
  if (nsWide) return nsWide;
  return push.sidecars.find(
    (s) =>
      (s.metadata.namespace ?? 'default') === push.mesh.rootNamespace && !s.spec?.workloadSelector?.labels,
  );
}

function parseEgress(sc: Sidecar): EgressHost[] {
  const ns = sc.metadata.namespace ?? 'default';
  const out: EgressHost[] = [];
  for (const l of sc.spec.egress ?? []) {
    for (const h of l.hosts ?? []) {
      const slash = h.indexOf('/');
      const nsPart = slash < 0 ? '*' : h.slice(0, slash);
      const host = (slash < 0 ? h : h.slice(slash + 1)).toLowerCase();
      if (nsPart === '~') continue;
      out.push({ namespace: nsPart === '.' ? ns : nsPart, host });
    }
  }
  return out;
}
