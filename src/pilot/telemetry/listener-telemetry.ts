// Adds the proxy's telemetry to its generated listeners: the istio.stats filter (metrics + peer
// metadata exchange) before the router of every HTTP connection manager, and access logs, following
// the Telemetry resources and MeshConfig that apply to the proxy on each side (inbound = SERVER).
import { structFromJson } from '../../xds/struct.js';
import type {
  envoy_config_accesslog_v3_AccessLog as AccessLog,
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_listener_v3_Listener as Listener,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
} from '../../xds/envoy-types.js';
import { anyOf, durationMs, FILTERS, payloadOf, TYPES } from '../envoy.js';
import type { ProxyScope } from '../scoping.js';
import { compileFilterExpression, fileAccessLog, meshAccessLog } from './access-log-config.js';
import type { ExtensionProvider, MeshTelemetry } from './mesh-telemetry.js';
import { buildHcmTracing, requestIdExtension } from './tracing-config.js';
import { effectiveTelemetry, type EffectiveTelemetry, type TrafficSide } from './telemetry-policy.js';

/** Name of the stats filter (Istio's). */
export const ISTIO_STATS = 'istio.stats';

/** Istio's built-in providers, and MeshConfig extensionProviders by name. */
function findProvider(t: MeshTelemetry, name: string): ExtensionProvider | null {
  const p = t.extensionProviders.find((x) => x.name === name);
  if (p) return p;
  if (name === 'prometheus') return { name, kind: 'prometheus' };
  if (name === 'envoy')
    return {
      name,
      kind: 'envoyFileAccessLog',
      path: t.accessLogFile || '/dev/stdout',
      text: null,
      labels: null,
    };
  return null;
}

/** The istio.stats filter of one side, or null when no Prometheus provider is selected. */
function statsFilter(
  scope: ProxyScope,
  side: TrafficSide,
  eff: EffectiveTelemetry,
  port: number,
): Filter | null {
  const mesh = scope.push.mesh.telemetry;
  if (!eff.metricsProviders.some((n) => findProvider(mesh, n)?.kind === 'prometheus')) return null;
  const metrics = eff.metricOverrides.map((o) => {
    const m: Record<string, unknown> = { name: o.match?.metric ?? 'ALL_METRICS' };
    if (o.disabled === true) m.drop = true;
    const remove: string[] = [];
    const dims: Record<string, string> = {};
    for (const [tag, to] of Object.entries(o.tagOverrides ?? {})) {
      if (to.operation === 'REMOVE') remove.push(tag);
      else if (to.value !== undefined) dims[tag] = to.value;
    }
    if (remove.length > 0) m.tags_to_remove = remove;
    if (Object.keys(dims).length > 0) m.dimensions = dims;
    return m;
  });
  const value: Record<string, unknown> = { direction: side === 'SERVER' ? 'INBOUND' : 'OUTBOUND' };
  if (metrics.length > 0) value.metrics = metrics;
  // Telemetry reportingInterval: how often open TCP connections report their bytes (Istio: 5s).
  const reportMs = eff.reportingInterval === null ? undefined : durationMs(eff.reportingInterval);
  if (reportMs !== undefined) value.tcp_reporting_duration = `${reportMs / 1000}s`;
  if (side === 'SERVER') {
    const p = scope.proxy;
    value.services = scope.push.registry
      .inboundPorts(p.ip, p.namespace, scope.workload?.name)
      .filter((x) => port === 0 || x.targetPort === port)
      .map((x) => ({ host: x.service.hostname, name: x.service.name, namespace: x.service.namespace }));
  }
  return {
    name: ISTIO_STATS,
    typedConfig: anyOf(TYPES.TYPED_STRUCT, {
      typeUrl: 'type.googleapis.com/stats.PluginConfig',
      value: structFromJson(value),
    }),
  };
}

/** Access logs of one side: Telemetry providers when a Telemetry sets access logging, else MeshConfig's. */
function accessLogs(scope: ProxyScope, eff: EffectiveTelemetry): AccessLog[] {
  const mesh = scope.push.mesh.telemetry;
  if (eff.accessLogProviders === null) {
    const fromDefaults = mesh.defaultProviders.accessLogging;
    const out: AccessLog[] = [];
    const m = meshAccessLog(mesh);
    if (m) out.push(m);
    for (const n of fromDefaults) {
      const p = findProvider(mesh, n);
      if (p?.kind === 'envoyFileAccessLog') out.push(fileAccessLog(p.path, p.text, p.labels, null));
    }
    return out;
  }
  const filter = eff.accessLogFilter ? compileFilterExpression(eff.accessLogFilter) : null;
  const out: AccessLog[] = [];
  for (const n of eff.accessLogProviders) {
    const p = findProvider(mesh, n);
    if (p?.kind !== 'envoyFileAccessLog') continue;
    if (n === 'envoy' && !p.text && !p.labels && mesh.accessLogFile) {
      const m = meshAccessLog(mesh)!;
      if (filter) m.filter = filter;
      out.push(m);
    } else out.push(fileAccessLog(p.path, p.text, p.labels, filter));
  }
  return out;
}

/** The port an inbound HCM serves, from its inline route config `inbound|PORT||`; 0 when unknown. */
function inboundPort(hcm: HttpConnectionManager): number {
  const name = hcm.routeConfig?.name ?? '';
  const m = /^inbound\|(\d+)\|/.exec(name);
  return m ? Number(m[1]) : 0;
}

/** The port of an inbound tcp_proxy from its cluster `inbound|PORT||`; 0 when unknown. */
function inboundTcpPort(tcp: Filter): number {
  const m = /^inbound\|(\d+)\|/.exec(payloadOf(tcp.typedConfig, TYPES.TCP_PROXY)?.cluster ?? '');
  return m ? Number(m[1]) : 0;
}

/** Adds telemetry to every HTTP connection manager of the listeners (in place; they are fresh objects). */
export function applyListenerTelemetry(scope: ProxyScope, listeners: Listener[]): Listener[] {
  const push = scope.push;
  const bySide = new Map<TrafficSide, EffectiveTelemetry>();
  const eff = (side: TrafficSide): EffectiveTelemetry => {
    let e = bySide.get(side);
    if (!e) bySide.set(side, (e = effectiveTelemetry(push, scope.proxy, side)));
    return e;
  };
  for (const l of listeners) {
    const side: TrafficSide = l.trafficDirection === 'INBOUND' ? 'SERVER' : 'CLIENT';
    for (const chain of l.filterChains ?? []) {
      const filters = chain.filters ?? [];
      const tcpAt = filters.findIndex((f) => f.name === FILTERS.TCP_PROXY);
      if (tcpAt >= 0 && !filters.some((f) => f.name === ISTIO_STATS)) {
        // Istio's TCP metrics: the network istio.stats filter in front of tcp_proxy.
        const port = side === 'SERVER' ? inboundTcpPort(filters[tcpAt]) : 0;
        const stats = statsFilter(scope, side, eff(side), port);
        if (stats) filters.splice(tcpAt, 0, stats);
      }
      for (const f of filters) {
        const hcm = f.name === FILTERS.HCM ? payloadOf(f.typedConfig, TYPES.HCM) : null;
        if (!hcm) continue;
        const e = eff(side);
        const stats = statsFilter(scope, side, e, side === 'SERVER' ? inboundPort(hcm) : 0);
        const filters = hcm.httpFilters ?? [];
        if (stats && !filters.some((x) => x.name === ISTIO_STATS))
          filters.splice(filters.length - 1, 0, stats);
        const logs = accessLogs(scope, e);
        if (logs.length > 0) hcm.accessLog = logs;
        const tracing = buildHcmTracing(scope, e);
        if (tracing) {
          hcm.tracing = tracing;
          const rid = requestIdExtension(e);
          if (rid) hcm.requestIdExtension = rid;
        }
      }
    }
  }
  return listeners;
}
