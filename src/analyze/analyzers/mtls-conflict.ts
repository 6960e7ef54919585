// DestinationRule TLS modes that contradict the PeerAuthentication of the workloads they reach.
import type { Resource } from '../../api/resource.js';
import { field, type AnalysisContext, type Analyzer, type FieldRef } from '../analyzer.js';
import { isWildcard, toFqdn } from '../hosts.js';
import { MESSAGES } from '../messages.js';
import type { MeshService, Workload } from '../mesh-index.js';
import type { DestinationRuleSpec, TrafficPolicy } from '../../api/kinds/networking/destination-rule.js';
import { effectiveMtls } from '../peer-authentication.js';

/** One TLS setting of a DestinationRule and what it covers. */
interface TlsSetting {
  readonly mode: string;
  readonly at: FieldRef;
  /** Service port it applies to; undefined = every port without its own port-level setting. */
  readonly port?: number;
  readonly subsetLabels?: Record<string, string>;
  readonly overridden: ReadonlySet<number>;
}

/**
 * A client sending plaintext (DISABLE) to workloads whose PeerAuthentication is STRICT, or Istio mutual
 * TLS (ISTIO_MUTUAL) to workloads that DISABLE it, fails every connection. Istio retired its analyzer
 * for this (IST0113), so Mizzen reports it under its own code.
 */
export const mtlsConflictAnalyzer: Analyzer = {
  name: 'destinationrule.MTLSConflictAnalyzer',
  description: 'Checks DestinationRule TLS modes against the PeerAuthentication of the destination workloads',
  analyze(ctx) {
    if (ctx.index.ofKind('PeerAuthentication').length === 0) return;
    for (const r of ctx.index.ofKind('DestinationRule')) {
      const spec = (r.spec ?? {}) as DestinationRuleSpec;
      if (!spec.host) continue;
      const ns = r.metadata.namespace ?? 'default';
      const fqdn = toFqdn(spec.host, ns);
      const services = isWildcard(fqdn)
        ? ctx.index.servicesMatching(fqdn)
        : [ctx.index.findService(fqdn, ns)];
      const settings = tlsSettings(spec);
      for (const svc of services) {
        if (!svc) continue;
        for (const s of settings) checkSetting(ctx, r, svc, s);
      }
    }
  },
};

function tlsSettings(spec: DestinationRuleSpec): TlsSetting[] {
  const out: TlsSetting[] = [];
  const add = (tp: TrafficPolicy | undefined, path: string, subsetLabels?: Record<string, string>): void => {
    if (!tp) return;
    const overridden = new Set<number>();
    (tp.portLevelSettings ?? []).forEach((pl, i) => {
      const port = pl.port?.number;
      if (port === undefined || !pl.tls) return;
      overridden.add(port);
      if (pl.tls.mode)
        out.push({
          mode: pl.tls.mode,
          at: field(pl.tls, 'mode', `${path}.portLevelSettings[${i}].tls.mode`),
          port,
          overridden,
          ...(subsetLabels ? { subsetLabels } : {}),
        });
    });
    if (tp.tls?.mode)
      out.push({
        mode: tp.tls.mode,
        at: field(tp.tls, 'mode', `${path}.tls.mode`),
        overridden,
        ...(subsetLabels ? { subsetLabels } : {}),
      });
  };
  add(spec.trafficPolicy, 'spec.trafficPolicy');
  (spec.subsets ?? []).forEach((s, i) =>
    add(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, s.labels ?? {}),
  );
  return out;
}

function checkSetting(ctx: AnalysisContext, r: Resource, svc: MeshService, s: TlsSetting): void {
  if (s.mode !== 'DISABLE' && s.mode !== 'ISTIO_MUTUAL') return;
  const workloads = ctx.index.serviceWorkloads(svc, s.subsetLabels);
  if (!workloads) return;
  const ports = svc.ports.filter((p) =>
    s.port !== undefined ? p.number === s.port : !s.overridden.has(p.number),
  );
  for (const p of ports) {
    for (const w of workloads) {
      const eff = effectiveMtls(ctx.index, w, targetPort(p.targetPort ?? p.number, w));
      const conflict = s.mode === 'DISABLE' ? eff.mode === 'STRICT' : eff.mode === 'DISABLE';
      if (!conflict || !eff.policy) continue;
      const pa = `PeerAuthentication ${eff.policy.metadata.namespace ?? 'default'}/${eff.policy.metadata.name}`;
      const target = `${svc.hosts[0]} port ${p.number}`;
      const workload = `${w.kind} ${w.namespace}/${w.name}`;
      ctx.report(
        MESSAGES.MtlsModeConflict,
        r,
        s.at,
        s.mode === 'DISABLE'
          ? `sends plaintext (tls.mode DISABLE) to ${target}, but ${pa} requires mutual TLS (STRICT) on ${workload}: every connection will be refused. Use ISTIO_MUTUAL, or drop tls to let auto mTLS choose.`
          : `sends Istio mutual TLS (tls.mode ISTIO_MUTUAL) to ${target}, but ${pa} disables mutual TLS (DISABLE) on ${workload}: every handshake will fail. Drop tls to let auto mTLS choose, or make the PeerAuthentication PERMISSIVE.`,
      );
      return;
    }
  }
}

/** The workload port a service port reaches: a number, or a container port found by name. */
function targetPort(t: number | string, w: Workload): number | undefined {
  if (typeof t === 'number') return t;
  const byName = w.ports.find((p) => p.name === t);
  if (byName) return byName.number;
  const n = Number(t);
  return Number.isInteger(n) ? n : undefined;
}
