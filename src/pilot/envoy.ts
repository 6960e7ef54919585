// Small builders for canonical-form Envoy values: durations, wrappers, addresses, typed configs, names.
import { parseDuration } from '../api/duration.js';
import { durationFromMs } from '../xds/duration.js';
import type {
  AnyMessageOf,
  Duration,
  envoy_config_core_v3_Address as Address,
  envoy_config_core_v3_ConfigSource as ConfigSource,
  envoy_config_trace_v3_OpenTelemetryConfig as OpenTelemetryConfig,
  envoy_config_trace_v3_ZipkinConfig as ZipkinConfig,
  envoy_extensions_access_loggers_file_v3_FileAccessLog as FileAccessLog,
  envoy_extensions_request_id_uuid_v3_UuidRequestIdConfig as UuidRequestIdConfig,
  envoy_extensions_filters_http_cors_v3_CorsPolicy as CorsPolicy,
  envoy_extensions_filters_http_cors_v3_Cors as Cors,
  envoy_extensions_filters_http_ext_authz_v3_ExtAuthz as HttpExtAuthz,
  envoy_extensions_filters_http_jwt_authn_v3_JwtAuthentication as JwtAuthentication,
  envoy_extensions_filters_http_rbac_v3_RBAC as HttpRbac,
  envoy_extensions_filters_network_ext_authz_v3_ExtAuthz as NetworkExtAuthz,
  envoy_extensions_filters_http_router_v3_Router as Router,
  envoy_extensions_filters_network_rbac_v3_RBAC as NetworkRbac,
  envoy_extensions_filters_listener_original_dst_v3_OriginalDst as OriginalDst,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
  envoy_extensions_filters_network_tcp_proxy_v3_TcpProxy as TcpProxy,
  envoy_extensions_filters_listener_tls_inspector_v3_TlsInspector as TlsInspector,
  envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext as DownstreamTlsContext,
  envoy_extensions_filters_http_fault_v3_HTTPFault as HTTPFault,
  envoy_extensions_path_match_uri_template_v3_UriTemplateMatchConfig as UriTemplateMatchConfig,
  envoy_extensions_retry_host_previous_hosts_v3_PreviousHostsPredicate as PreviousHostsPredicate,
  envoy_extensions_transport_sockets_raw_buffer_v3_RawBuffer as RawBuffer,
  envoy_extensions_transport_sockets_tls_v3_UpstreamTlsContext as UpstreamTlsContext,
  envoy_extensions_upstreams_http_v3_HttpProtocolOptions as HttpProtocolOptions,
  envoy_type_v3_FractionalPercent as FractionalPercent,
  udpa_type_v1_TypedStruct as TypedStruct,
} from '../xds/envoy-types.js';
import type { CanonicalObject } from '../xds/protos.js';

/** A canonical-form Envoy message whose type is not spelled out (the xDS server's view of a resource). */
export type Envoy = CanonicalObject;

/** Type URLs of the typed configs the generators emit. */
export const TYPES = {
  HCM: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  TCP_PROXY: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  ROUTER: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  FAULT: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  CORS: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  CORS_POLICY: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  UPSTREAM_TLS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  DOWNSTREAM_TLS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  HTTP_PROTOCOL_OPTIONS: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  ORIGINAL_DST: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  TLS_INSPECTOR: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  RAW_BUFFER: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
  HTTP_RBAC: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  NETWORK_RBAC: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
  JWT_AUTHN: 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
  URI_TEMPLATE: 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig',
  FILE_ACCESS_LOG: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
  ZIPKIN: 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
  OPENTELEMETRY: 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
  UUID_REQUEST_ID: 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig',
  PREVIOUS_HOSTS: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  HTTP_EXT_AUTHZ: 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
  NETWORK_EXT_AUTHZ: 'type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz',
  TYPED_STRUCT: 'type.googleapis.com/udpa.type.v1.TypedStruct',
} as const;

/** The message each typed-config URL names: what {@link anyOf} checks a payload against. */
export interface TypedConfigs {
  [TYPES.HCM]: HttpConnectionManager;
  [TYPES.TCP_PROXY]: TcpProxy;
  [TYPES.ROUTER]: Router;
  [TYPES.CORS]: Cors;
  [TYPES.HTTP_RBAC]: HttpRbac;
  [TYPES.NETWORK_RBAC]: NetworkRbac;
  [TYPES.JWT_AUTHN]: JwtAuthentication;
  [TYPES.URI_TEMPLATE]: UriTemplateMatchConfig;
  [TYPES.PREVIOUS_HOSTS]: PreviousHostsPredicate;
  [TYPES.FILE_ACCESS_LOG]: FileAccessLog;
  [TYPES.ZIPKIN]: ZipkinConfig;
  [TYPES.OPENTELEMETRY]: OpenTelemetryConfig;
  [TYPES.UUID_REQUEST_ID]: UuidRequestIdConfig;
  [TYPES.HTTP_EXT_AUTHZ]: HttpExtAuthz;
  [TYPES.NETWORK_EXT_AUTHZ]: NetworkExtAuthz;
  [TYPES.FAULT]: HTTPFault;
  [TYPES.CORS_POLICY]: CorsPolicy;
  [TYPES.UPSTREAM_TLS]: UpstreamTlsContext;
  [TYPES.DOWNSTREAM_TLS]: DownstreamTlsContext;
  [TYPES.ORIGINAL_DST]: OriginalDst;
  [TYPES.TLS_INSPECTOR]: TlsInspector;
  [TYPES.HTTP_PROTOCOL_OPTIONS]: HttpProtocolOptions;
  [TYPES.RAW_BUFFER]: RawBuffer;
  [TYPES.TYPED_STRUCT]: TypedStruct;
}

/**
 * A `google.protobuf.Any` holding `msg` in canonical form (its fields beside '@type'). The URL picks the
 * message type, so the compiler checks the payload's shape the way it checks a resource's.
 */
export function anyOf<U extends keyof TypedConfigs>(typeUrl: U, msg: TypedConfigs[U]): AnyMessageOf {
  return { '@type': typeUrl, ...msg };
}

/**
 * The message an Any holds, typed again, when its '@type' is `typeUrl`; null for any other (or no) Any.
 * The same object: changes to the result change the Any (for steps that amend generated config).
 */
export function payloadOf<U extends keyof TypedConfigs>(
  any: AnyMessageOf | undefined,
  typeUrl: U,
): TypedConfigs[U] | null {
  return any?.['@type'] === typeUrl ? any : null;
}

/** Envoy's well-known filter names. */
export const FILTERS = {
  HCM: 'envoy.filters.network.http_connection_manager',
  TCP_PROXY: 'envoy.filters.network.tcp_proxy',
  ROUTER: 'envoy.filters.http.router',
  FAULT: 'envoy.filters.http.fault',
  CORS: 'envoy.filters.http.cors',
  ORIGINAL_DST: 'envoy.filters.listener.original_dst',
  TLS_INSPECTOR: 'envoy.filters.listener.tls_inspector',
} as const;

/** Istio's default for every circuit-breaker limit. */
export const MAX_UINT32 = 4294967295;

/** Milliseconds as a canonical google.protobuf.Duration (a zero duration is `{}`). */
export function duration(ms: number): Duration {
  return durationFromMs(ms);
}

/** An Istio duration string ("1.5s", "100ms") in milliseconds; undefined when absent or invalid. */
export function durationMs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  return parseDuration(s);
}

/** An Istio duration string as a canonical Duration; undefined when absent or invalid. */
export function protoDuration(s: string | undefined): Duration | undefined {
  const ms = durationMs(s);
  return ms === undefined ? undefined : duration(ms);
}

/** A wrapper value (UInt32Value, BoolValue, DoubleValue) in canonical form. */
export function wrap<T extends number | boolean>(value: T): { value: T } {
  return { value };
}

/** A socket address. */
export function socketAddress(address: string, port: number): Address {
  return { socketAddress: { address, portValue: port } };
}

/** An ADS config source (RDS, EDS over the same stream). */
export function adsConfigSource(): ConfigSource {
  return { ads: {}, resourceApiVersion: 'V3' };
}

/** A percentage (0–100, fractional) as a FractionalPercent over a million, as Istio converts it. */
export function fractionalPercent(percent: number): FractionalPercent {
  const numerator = Math.round(Math.max(0, Math.min(100, percent)) * 10000);
  const out: FractionalPercent = { denominator: 'MILLION' };
  if (numerator !== 0) out.numerator = numerator;
  return out;
}

/** Removes keys whose value is undefined (canonical form omits them). */
export function compact<T extends Envoy>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` (subset '' for none). */
export function outboundClusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** `inbound|9080||` */
export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

/** Parses an outbound cluster name; null for other names. */
export function parseOutboundClusterName(
  name: string,
): { port: number; subset: string; host: string } | null {
  // `outbound|PORT|SUBSET|HOST`, or the SNI form `outbound_.PORT_.SUBSET_.HOST` of AUTO_PASSTHROUGH's
  // SNI-DNAT clusters (Istio parses both the same way).
  const parts = name.startsWith('outbound_.') ? splitSni(name) : name.split('|');
  if (parts === null || parts.length !== 4 || parts[0] !== 'outbound') return null;
  const port = Number(parts[1]);
  if (!Number.isInteger(port) || port <= 0) return null;
  return { port, subset: parts[2], host: parts[3] };
}

/** `outbound_.PORT_.SUBSET_.HOST` → its four parts (the host may itself contain `_.`). */
function splitSni(name: string): string[] | null {
  const a = name.indexOf('_.');
  const b = name.indexOf('_.', a + 2);
  const c = b < 0 ? -1 : name.indexOf('_.', b + 2);
  if (c < 0) return null;
  return [name.slice(0, a), name.slice(a + 2, b), name.slice(b + 2, c), name.slice(c + 2)];
}

/** Names of the special clusters. */
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster';
