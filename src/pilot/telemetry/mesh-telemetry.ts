// MeshConfig's telemetry fields: accessLogFile/Encoding/Format, extensionProviders, defaultProviders,
// enableTracing and defaultConfig.tracing.sampling, read once per mesh config.
import { durationMs } from '../envoy.js';
import { mapping } from '../yaml-mapping.js';

/** One extensionProviders entry (the kinds Mizzen implements; others are kept with `kind: 'unsupported'`). */
export type ExtensionProvider =
  | { readonly name: string; readonly kind: 'prometheus' }
  | {
      readonly name: string;
      readonly kind: 'envoyFileAccessLog';
      readonly path: string;
      /** Text format, or null for Istio's default. */
      readonly text: string | null;
      /** JSON labels (key → command), or null for text. */
      readonly labels: Readonly<Record<string, string>> | null;
    }
  | {
      readonly name: string;
      readonly kind: 'zipkin' | 'opentelemetry';
      /** `host` of the collector (service FQDN or address). */
      readonly service: string;
      readonly port: number;
      /** HTTP path: Zipkin /api/v2/spans, OTLP /v1/traces unless set. */
      readonly path: string;
      readonly maxTagLength: number;
      /** OpenTelemetry over gRPC (no `http` block), else OTLP/HTTP. */
      readonly grpc: boolean;
      /** OTLP/HTTP request headers (`http.headers`). */
      readonly headers: Readonly<Record<string, string>>;
      /** Per-report timeout (OpenTelemetry `http.timeout` / `grpc.timeout`), ms. */
      readonly timeoutMs: number;
    }
  | { readonly name: string; readonly kind: 'unsupported'; readonly type: string };

/** MeshConfig telemetry as Mizzen uses it. */
export interface MeshTelemetry {
  /** accessLogFile ('' = access logging off unless Telemetry turns it on). */
  readonly accessLogFile: string;
  readonly accessLogEncoding: 'TEXT' | 'JSON';
  /** accessLogFormat ('' = Istio's default for the encoding). */
  readonly accessLogFormat: string;
  readonly extensionProviders: readonly ExtensionProvider[];
  /** defaultProviders.{metrics,accessLogging,tracing}: provider names. */
  readonly defaultProviders: {
    readonly metrics: readonly string[];
    readonly accessLogging: readonly string[];
    readonly tracing: readonly string[];
  };
  /** enableTracing (Istio default true). */
  readonly enableTracing: boolean;
  /** defaultConfig.tracing.sampling, percent (Istio default 1). */
  readonly sampling: number;
  /** Fields set but not enforced, one phrase each (logged loudly by the server). */
  readonly unsupported: readonly string[];
}

/** Istio's defaults: no access log, Prometheus metrics, tracing sampled at 1% when a provider is set. */
export const DEFAULT_MESH_TELEMETRY: MeshTelemetry = Object.freeze({
  accessLogFile: '',
  accessLogEncoding: 'TEXT',
  accessLogFormat: '',
  extensionProviders: [],
  defaultProviders: { metrics: ['prometheus'], accessLogging: [], tracing: [] },
  enableTracing: true,
  sampling: 1,
  unsupported: [],
});

const names = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function provider(p: Record<string, unknown>, unsupported: string[]): ExtensionProvider {
  const name = String(p.name ?? '');
  if (p.prometheus !== undefined) return { name, kind: 'prometheus' };
  if (p.envoyFileAccessLog !== undefined) {
    const f = mapping(p.envoyFileAccessLog);
    const lf = mapping(f.logFormat);
    const labels = lf.labels && typeof lf.labels === 'object' ? (lf.labels as Record<string, string>) : null;
    return {
      name,
      kind: 'envoyFileAccessLog',
      path: String(f.path ?? '/dev/stdout'),
      text: typeof lf.text === 'string' ? lf.text : null,
      labels,
    };
  }
  for (const kind of ['zipkin', 'opentelemetry'] as const) {
    if (p[kind] === undefined) continue;
    const z = mapping(p[kind]);
    const http = z.http ? mapping(z.http) : null;
    const defPath = kind === 'zipkin' ? '/api/v2/spans' : '/v1/traces';
    const headers: Record<string, string> = {};
    for (const h of Array.isArray(http?.headers) ? (http.headers as unknown[]) : []) {
      const hv = mapping(h);
      if (typeof hv.name === 'string') headers[hv.name.toLowerCase()] = String(hv.value ?? '');
    }
    const timeout = kind === 'opentelemetry' ? (http?.timeout ?? mapping(z.grpc).timeout) : undefined;
    return {
      name,
      kind,
      service: String(z.service ?? ''),
      port: Number(z.port ?? (kind === 'zipkin' ? 9411 : http ? 4318 : 4317)),
      path: String(z.path ?? http?.path ?? defPath),
      maxTagLength: Number(z.maxTagLength ?? 256),
      grpc: kind === 'opentelemetry' && !http,
      headers,
      timeoutMs: (typeof timeout === 'string' ? durationMs(timeout) : undefined) ?? 5000,
    };
  }
  const type = Object.keys(p).find((k) => k !== 'name') ?? 'unknown';
  // External authorizers belong to AuthorizationPolicy CUSTOM (src/pilot/authz/ext-authz-provider.ts).
  if (type === 'envoyExtAuthzHttp' || type === 'envoyExtAuthzGrpc')
    return { name, kind: 'unsupported', type };
  unsupported.push(`extensionProviders ${name}: provider type ${type} is not supported (ignored)`);
  return { name, kind: 'unsupported', type };
}

/** Reads the telemetry fields of a parsed MeshConfig. */
export function meshTelemetryOf(mesh: Record<string, unknown>): MeshTelemetry {
  const unsupported: string[] = [];
  const enc = String(mesh.accessLogEncoding ?? 'TEXT').toUpperCase();
  const dp = mapping(mesh.defaultProviders);
  const legacy = mapping(mapping(mesh.defaultConfig).tracing);
  const sampling = Number(legacy.sampling ?? 1);
  for (const k of ['zipkin', 'lightstep', 'datadog', 'stackdriver', 'openCensusAgent'])
    if (legacy[k] !== undefined)
      unsupported.push(
        `defaultConfig.tracing.${k}: the legacy tracer setting is not supported; declare an extensionProviders entry and select it with defaultProviders.tracing or a Telemetry resource`,
      );
  return {
    accessLogFile: typeof mesh.accessLogFile === 'string' ? mesh.accessLogFile : '',
    accessLogEncoding: enc === 'JSON' ? 'JSON' : 'TEXT',
    accessLogFormat: typeof mesh.accessLogFormat === 'string' ? mesh.accessLogFormat : '',
    extensionProviders: (Array.isArray(mesh.extensionProviders)
      ? (mesh.extensionProviders as unknown[])
      : []
    ).map((p) => provider(mapping(p), unsupported)),
    defaultProviders: {
      metrics: dp.metrics ? names(dp.metrics) : ['prometheus'],
      accessLogging: names(dp.accessLogging),
      tracing: names(dp.tracing),
    },
    enableTracing: mesh.enableTracing !== false,
    sampling: Number.isFinite(sampling) ? Math.max(0, Math.min(100, sampling)) : 1,
    unsupported,
  };
}
