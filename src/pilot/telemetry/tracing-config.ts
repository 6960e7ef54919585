// The HCM `tracing` of one side of a proxy, as Istio builds it from MeshConfig and the Telemetry API:
// the provider (extensionProviders zipkin / opentelemetry, chosen by Telemetry `tracing[].providers`
// or MeshConfig defaultProviders.tracing), random sampling (Telemetry randomSamplingPercentage, else
// defaultConfig.tracing.sampling), Istio's own span tags and the Telemetry customTags.
import type { CustomTag } from '../../api/kinds/telemetry/telemetry.js';
import type {
  envoy_config_trace_v3_OpenTelemetryConfig as OpenTelemetryConfig,
  envoy_config_trace_v3_Tracing_Http as TracingHttp,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager_Tracing as HcmTracing,
  envoy_extensions_filters_network_http_connection_manager_v3_RequestIDExtension as RequestIdExtension,
  envoy_type_tracing_v3_CustomTag as CustomTagMessage,
} from '../../xds/envoy-types.js';
import { anyOf, duration, TYPES, wrap } from '../envoy.js';
import type { ProxyScope } from '../scoping.js';
import type { ExtensionProvider } from './mesh-telemetry.js';
import type { EffectiveTelemetry } from './telemetry-policy.js';

type TracingProvider = Extract<ExtensionProvider, { kind: 'zipkin' | 'opentelemetry' }>;

/** `[<namespace>/]<hostname>` → the hostname. */
function providerHost(service: string): string {
  const i = service.indexOf('/');
  return i >= 0 ? service.slice(i + 1) : service;
}

/** The outbound cluster Istio sends spans to: `outbound|PORT||HOST`. */
export function collectorCluster(p: TracingProvider): string {
  return `outbound|${p.port}||${providerHost(p.service)}`;
}

/** The Envoy tracer provider of a Zipkin or OpenTelemetry extension provider. */
function providerConfig(p: TracingProvider, serviceName: string): TracingHttp {
  const host = providerHost(p.service);
  const cluster = collectorCluster(p);
  if (p.kind === 'zipkin')
    return {
      name: 'envoy.tracers.zipkin',
      typedConfig: anyOf(TYPES.ZIPKIN, {
        collectorCluster: cluster,
        collectorEndpoint: p.path,
        collectorEndpointVersion: 'HTTP_JSON',
        collectorHostname: host,
        // Istio: 128-bit trace ids, and client and server spans with their own ids.
        traceId_128bit: true,
        sharedSpanContext: wrap(false),
      }),
    };
  const cfg: OpenTelemetryConfig = { serviceName };
  if (p.grpc)
    cfg.grpcService = {
      envoyGrpc: { clusterName: cluster, authority: host },
      timeout: duration(p.timeoutMs),
    };
  else
    cfg.httpService = {
      httpUri: { uri: `http://${host}:${p.port}${p.path}`, cluster, timeout: duration(p.timeoutMs) },
      requestHeadersToAdd: Object.entries(p.headers).map(([key, value]) => ({ header: { key, value } })),
    };
  return { name: 'envoy.tracers.opentelemetry', typedConfig: anyOf(TYPES.OPENTELEMETRY, cfg) };
}

/** Istio's span tags of a proxy (enableIstioTags): canonical service/revision, mesh, namespace, cluster. */
function istioTags(scope: ProxyScope): CustomTagMessage[] {
  const p = scope.proxy;
  const l = p.labels;
  const md = p.metadata as Record<string, unknown>;
  const lit = (tag: string, value: string): CustomTagMessage => ({ tag, literal: { value } });
  return [
    lit('istio.canonical_revision', l['service.istio.io/canonical-revision'] ?? l['version'] ?? 'latest'),
    lit(
      'istio.canonical_service',
      l['service.istio.io/canonical-name'] ??
        l['app.kubernetes.io/name'] ??
        l['app'] ??
        String(md.WORKLOAD_NAME ?? 'unknown'),
    ),
    lit('istio.mesh_id', String(md.MESH_ID ?? scope.push.mesh.trustDomain)),
    lit('istio.namespace', p.namespace),
    lit('istio.cluster_id', String(md.CLUSTER_ID ?? 'Kubernetes')),
  ];
}

/** Telemetry customTags as Envoy custom_tags (formatter tags are warned about at validation). */
function customTags(tags: Record<string, CustomTag> | undefined): CustomTagMessage[] {
  const out: CustomTagMessage[] = [];
  for (const [tag, t] of Object.entries(tags ?? {})) {
    if (t.literal) out.push({ tag, literal: { value: t.literal.value } });
    else if (t.environment)
      out.push({
        tag,
        environment: { name: t.environment.name, defaultValue: t.environment.defaultValue ?? '' },
      });
    else if (t.header)
      out.push({ tag, requestHeader: { name: t.header.name, defaultValue: t.header.defaultValue ?? '' } });
  }
  return out;
}

/** The tracing service name: `<canonical service>.<namespace>`. */
function serviceName(scope: ProxyScope): string {
  const l = scope.proxy.labels;
  const svc = l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l['app'] ?? 'unknown';
  return `${svc}.${scope.proxy.namespace}`;
}

/** The provider selected for tracing on this side, or null when tracing is off. */
export function tracingProvider(scope: ProxyScope, eff: EffectiveTelemetry): TracingProvider | null {
  const mesh = scope.push.mesh.telemetry;
  const tr = eff.tracing;
  if (tr === null && !mesh.enableTracing) return null;
  const name = tr?.providers?.[0]?.name ?? mesh.defaultProviders.tracing[0];
  if (!name) return null;
  const p = mesh.extensionProviders.find((x) => x.name === name);
  return p && (p.kind === 'zipkin' || p.kind === 'opentelemetry') ? p : null;
}

/** The HCM `tracing` for this side, or null when no tracing provider applies. */
export function buildHcmTracing(scope: ProxyScope, eff: EffectiveTelemetry): HcmTracing | null {
  const p = tracingProvider(scope, eff);
  if (p === null) return null;
  const tr = eff.tracing;
  const sampling = tr?.randomSamplingPercentage ?? scope.push.mesh.telemetry.sampling;
  const out: HcmTracing = {
    clientSampling: { value: 100 },
    randomSampling: { value: sampling },
    overallSampling: { value: 100 },
    maxPathTagLength: wrap(p.maxTagLength),
    customTags: [...(tr?.enableIstioTags === false ? [] : istioTags(scope)), ...customTags(tr?.customTags)],
  };
  // disableSpanReporting keeps propagation and sampling; without a provider the proxy reports nothing.
  if (tr?.disableSpanReporting !== true) out.provider = providerConfig(p, serviceName(scope));
  return out;
}

/** Envoy's UUID request id extension when Telemetry turns useRequestIdForTraceSampling off; else null. */
export function requestIdExtension(eff: EffectiveTelemetry): RequestIdExtension | null {
  if (eff.tracing?.useRequestIdForTraceSampling !== false) return null;
  return { typedConfig: anyOf(TYPES.UUID_REQUEST_ID, { useRequestIdForTraceSampling: wrap(false) }) };
}
