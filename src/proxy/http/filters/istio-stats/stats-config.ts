// Compiles istio.stats config: a TypedStruct (type_url stats.PluginConfig) whose value carries Istio's
// `metrics` overrides plus Mizzen's `direction` (Envoy reads it from the listener) and, inbound, the
// services the workload serves (Istio keeps them in the inbound cluster's metadata).
import { structToJson, type CanonicalStruct } from '../../../../xds/struct.js';
import { logger } from '../../../log.js';
import { durationMs } from '../../../util/values.js';
import { METRIC_NAMES, serviceOfHost, type DestService, type MetricOverrides } from './istio-metrics.js';

const log = logger('istio_stats');

/** Compiled istio.stats config. */
export interface StatsConfig {
  /** True on inbound listeners (reporter destination). */
  readonly inbound: boolean;
  readonly overrides: MetricOverrides;
  /** tcp_reporting_duration (ms) when set: how often open TCP connections report their bytes. */
  readonly tcpReportingMs: number | null;
  /** The destination service of an inbound request by its authority. */
  matchService(authority: string): DestService;
}

const ALL = Object.values(METRIC_NAMES);

function metricNames(name: unknown): string[] {
  if (typeof name !== 'string' || name === '' || name === 'ALL_METRICS') return ALL;
  if (METRIC_NAMES[name]) return [METRIC_NAMES[name]];
  return [name.startsWith('istio_') ? name : `istio_${name}`];
}

/** A CEL literal `'text'` or `"text"`; null for any other expression (not supported). */
function literal(expr: unknown): string | null {
  const m = typeof expr === 'string' ? /^\s*(['"])(.*)\1\s*$/.exec(expr) : null;
  return m ? m[2] : null;
}

function compileOverrides(list: unknown): MetricOverrides {
  const disabled = new Set<string>();
  const removeTags = new Map<string, Set<string>>();
  const addTags = new Map<string, Array<[string, string]>>();
  for (const m of Array.isArray(list) ? (list as Record<string, unknown>[]) : []) {
    for (const metric of metricNames(m.name)) {
      if (m.drop === true) disabled.add(metric);
      const rm = m.tags_to_remove ?? m.tagsToRemove;
      if (Array.isArray(rm)) {
        let set = removeTags.get(metric);
        if (!set) removeTags.set(metric, (set = new Set()));
        for (const t of rm) set.add(String(t));
      }
      for (const [tag, expr] of Object.entries((m.dimensions ?? {}) as Record<string, unknown>)) {
        const v = literal(expr);
        if (v === null) {
          log.warn(`${metric}: tag ${tag}: only quoted literal values are supported, not ${String(expr)}`);
          continue;
        }
        let add = addTags.get(metric);
        if (!add) addTags.set(metric, (add = []));
        add.push([tag, v]);
      }
    }
  }
  return { disabled, removeTags, addTags };
}

/** The plain JSON of a TypedStruct (or a plain object given directly). */
function plainValue(typedConfig: unknown): Record<string, unknown> {
  const v = (typedConfig as { value?: unknown } | null | undefined)?.value;
  if (v && typeof v === 'object' && 'fields' in v) return structToJson(v as CanonicalStruct);
  return (v ?? {}) as Record<string, unknown>;
}

/** Compiles the filter's typed config. */
export function compileStatsConfig(typedConfig: unknown): StatsConfig {
  const c = plainValue(typedConfig);
  const inbound = String(c.direction ?? 'OUTBOUND').toUpperCase() === 'INBOUND';
  const services: DestService[] = Array.isArray(c.services)
    ? (c.services as Record<string, unknown>[]).map((s) => ({
        host: String(s.host ?? 'unknown'),
        name: String(s.name ?? 'unknown'),
        namespace: String(s.namespace ?? 'unknown'),
      }))
    : [];
  return {
    inbound,
    overrides: compileOverrides(c.metrics),
    tcpReportingMs:
      c.tcp_reporting_duration === undefined ? null : durationMs(c.tcp_reporting_duration, 5000),
    matchService(authority: string): DestService {
      const host = authority.replace(/:\d+$/, '');
      for (const s of services)
        if (host === s.host || host === s.name || host.startsWith(`${s.name}.${s.namespace}`)) return s;
      return services[0] ?? serviceOfHost(host);
    },
  };
}
