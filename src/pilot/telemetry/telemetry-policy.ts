// Resolves the Telemetry resources that apply to one proxy (root namespace → namespace → workload
// selector, Istio's inheritance) into one effective policy per direction: metrics overrides appended
// from the widest to the narrowest scope, providers and access-log/tracing settings replaced by the
// narrowest scope that sets them.
import type {
  MetricsOverrides,
  Telemetry,
  Tracing,
  WorkloadMode,
} from '../../api/kinds/telemetry/telemetry.js';
import type { PushContext } from '../push-context.js';
import type { Proxy } from '../proxy.js';

/** Which side of traffic: outbound listeners are CLIENT, inbound are SERVER. */
export type TrafficSide = 'CLIENT' | 'SERVER';

/** The effective telemetry of one proxy on one side. */
export interface EffectiveTelemetry {
  /** Metrics provider names (empty = no metrics). */
  readonly metricsProviders: readonly string[];
  /** Metric overrides that apply to this side, widest scope first. */
  readonly metricOverrides: readonly MetricsOverrides[];
  /** Access-log provider names (empty = none); null when no Telemetry set access logging. */
  readonly accessLogProviders: readonly string[] | null;
  /** Access-log filter expression, or null. */
  readonly accessLogFilter: string | null;
  /** Tracing settings of the narrowest scope that has any, or null. */
  readonly tracing: Tracing | null;
  /** metrics reportingInterval of the narrowest scope that sets one (Istio duration), or null. */
  readonly reportingInterval: string | null;
  /** `namespace/name` of the Telemetry resources applied, widest first. */
  readonly sources: readonly string[];
}

const modeApplies = (mode: WorkloadMode | undefined, side: TrafficSide): boolean =>
  mode === undefined || mode === 'CLIENT_AND_SERVER' || mode === side;

function selects(t: Telemetry, proxy: Proxy): boolean {
  const ml = t.spec.selector?.matchLabels;
  if (!ml) return false;
  return Object.entries(ml).every(([k, v]) => proxy.labels[k] === v);
}

/** The Telemetry resources of a proxy, widest first: root namespace, namespace, workload. */
export function applicableTelemetry(push: PushContext, proxy: Proxy): Telemetry[] {
  const all = push.snapshot.byKind('Telemetry') as Telemetry[];
  if (all.length === 0) return [];
  const root = push.mesh.rootNamespace;
  const ns = proxy.namespace;
  // Istio uses the oldest when several match at one level; names order them deterministically here.
  const byName = (a: Telemetry, b: Telemetry): number => a.metadata.name.localeCompare(b.metadata.name);
  const noSel = (t: Telemetry): boolean => !t.spec.selector && !t.spec.targetRef && !t.spec.targetRefs;
  const nsOf = (t: Telemetry): string => t.metadata.namespace ?? 'default';
  const out: Telemetry[] = [];
  const rootT = all.filter((t) => nsOf(t) === root && noSel(t)).sort(byName)[0];
  if (rootT) out.push(rootT);
  if (ns !== root) {
    const nsT = all.filter((t) => nsOf(t) === ns && noSel(t)).sort(byName)[0];
    if (nsT) out.push(nsT);
  }
  const wl = all.filter((t) => nsOf(t) === ns && selects(t, proxy)).sort(byName)[0];
  if (wl) out.push(wl);
  return out;
}

/** The effective telemetry of a proxy on one side, given mesh default providers. */
export function effectiveTelemetry(push: PushContext, proxy: Proxy, side: TrafficSide): EffectiveTelemetry {
  const defaults = push.mesh.telemetry.defaultProviders;
  let metricsProviders: readonly string[] = defaults.metrics;
  const metricOverrides: MetricsOverrides[] = [];
  let accessLogProviders: readonly string[] | null = null;
  let accessLogFilter: string | null = null;
  let tracing: Tracing | null = null;
  let reportingInterval: string | null = null;
  const sources: string[] = [];
  for (const t of applicableTelemetry(push, proxy)) {
    sources.push(`${t.metadata.namespace ?? 'default'}/${t.metadata.name}`);
    for (const m of t.spec.metrics ?? []) {
      if (m.providers && m.providers.length > 0) metricsProviders = m.providers.map((p) => p.name);
      if (m.reportingInterval !== undefined) reportingInterval = m.reportingInterval;
      for (const o of m.overrides ?? []) if (modeApplies(o.match?.mode, side)) metricOverrides.push(o);
    }
    for (const a of t.spec.accessLogging ?? []) {
      if (!modeApplies(a.match?.mode, side)) continue;
      if (a.disabled === true) accessLogProviders = [];
      else if (a.providers && a.providers.length > 0) accessLogProviders = a.providers.map((p) => p.name);
      else if (accessLogProviders === null || accessLogProviders.length === 0)
        accessLogProviders = defaults.accessLogging.length > 0 ? defaults.accessLogging : ['envoy'];
      if (a.filter) accessLogFilter = a.filter.expression;
    }
    const tr = (t.spec.tracing ?? []).find((x) => modeApplies(x.match?.mode, side));
    if (tr) tracing = { ...(tracing ?? {}), ...tr };
  }
  return {
    metricsProviders,
    metricOverrides,
    accessLogProviders,
    accessLogFilter,
    tracing,
    reportingInterval,
    sources,
  };
}
