// Loads an Envoy-style bootstrap (YAML or JSON, snake_case or camelCase) into canonical form and
// extracts what the proxy needs: node, admin address, static listeners/clusters, ADS server address.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fromEnvoyYaml } from '../../xds/envoy-yaml.js';
import { logger } from '../log.js';
import { durationMs, socketAddress, u32 } from '../util/values.js';
import type {
  envoy_config_bootstrap_v3_Bootstrap as BootstrapConfig,
  envoy_config_cluster_v3_Cluster as ClusterConfig,
  envoy_config_core_v3_ApiConfigSource as ApiConfigSource,
  envoy_config_listener_v3_Listener as ListenerConfig,
  envoy_extensions_upstreams_http_v3_HttpProtocolOptions as HttpProtocolOptions,
  google_protobuf_Struct as Struct,
  google_protobuf_Value as Value,
} from '../../xds/envoy-types.js';

const log = logger('config');

/** The parts of a bootstrap the proxy acts on. */
export interface Bootstrap {
  /** The whole bootstrap, canonical form (shown by /config_dump). */
  readonly canonical: BootstrapConfig;
  readonly node: {
    id: string;
    cluster: string;
    metadata: Record<string, unknown>;
    /** node.locality, sent to the control plane (which places the proxy by it); null when unset. */
    locality: { region?: string; zone?: string; subZone?: string } | null;
  };
  readonly staticListeners: ListenerConfig[];
  readonly staticClusters: ClusterConfig[];
  /** `host:port` of the ADS server from dynamic_resources.ads_config (several joined by commas), or null. */
  readonly adsAddress: string | null;
  /**
   * ADS variant from dynamic_resources.ads_config.api_type: `delta` (DELTA_GRPC, AGGREGATED_DELTA_GRPC),
   * `sotw` (GRPC, AGGREGATED_GRPC), or null when unset (the client then tries delta, falling back).
   */
  readonly adsProtocol: 'delta' | 'sotw' | null;
  /**
   * HTTP/2 keepalive of the xDS connection: `connection_keepalive` (interval, timeout) of the ADS
   * cluster's http2 protocol options (typed HttpProtocolOptions or the legacy field), or null.
   */
  readonly adsKeepalive: { intervalMs: number; timeoutMs: number } | null;
  /**
   * TCP keepalive of the xDS connection: `upstream_connection_options.tcp_keepalive.keepalive_time` of
   * the ADS cluster in ms (Envoy's default 2 h when the message has no time), or -1 when not set.
   */
  readonly adsTcpKeepaliveMs: number;
  /** Admin socket address from the bootstrap, or null. */
  readonly admin: { address: string; port: number } | null;
}

/** The yaml package, loaded for a bootstrap file only: a proxy configured by flags and xDS never needs it. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as { parse(text: string): unknown }).parse(text);
}

/** Reads and converts a bootstrap file. Throws with the file name and field path on errors. */
export function loadBootstrapFile(path: string): Bootstrap {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  try {
    return bootstrapFrom(fromEnvoyYaml(raw ?? {}));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Extracts the proxy's view of a canonical bootstrap. */
export function bootstrapFrom(b: BootstrapConfig): Bootstrap {
  const sr = b.staticResources ?? {};
  const staticClusters = sr.clusters ?? [];
  return {
    canonical: b,
    node: {
      id: String(b.node?.id ?? ''),
      cluster: String(b.node?.cluster ?? ''),
      metadata: structToPlain(b.node?.metadata),
      locality: nodeLocality(b.node?.locality),
    },
    staticListeners: sr.listeners ?? [],
    staticClusters,
    adsAddress: adsAddress(b.dynamicResources?.adsConfig, staticClusters),
    adsProtocol: adsProtocol(b.dynamicResources?.adsConfig),
    adsKeepalive: adsKeepalive(b.dynamicResources?.adsConfig, staticClusters),
    adsTcpKeepaliveMs: adsTcpKeepalive(b.dynamicResources?.adsConfig, staticClusters),
    admin: socketAddress(b.admin?.address),
  };
}

function nodeLocality(
  l: { region?: string; zone?: string; subZone?: string } | undefined,
): { region?: string; zone?: string; subZone?: string } | null {
  if (!l || !(l.region || l.zone || l.subZone)) return null;
  return { region: l.region ?? '', zone: l.zone ?? '', subZone: l.subZone ?? '' };
}

function adsAddress(ads: ApiConfigSource | undefined, clusters: ClusterConfig[]): string | null {
  if (!ads) return null;
  const svc = (ads.grpcServices ?? [])[0];
  if (svc?.googleGrpc?.targetUri) return String(svc.googleGrpc.targetUri);
  const name = svc?.envoyGrpc?.clusterName;
  if (!name) return null;
  const c = clusters.find((x) => x.name === name);
  // Every endpoint of the xDS cluster: the ADS client fails over between them (replicated control plane).
  const addrs: string[] = [];
  for (const locality of c?.loadAssignment?.endpoints ?? [])
    for (const lb of locality?.lbEndpoints ?? []) {
      const sa = lb?.endpoint?.address?.socketAddress;
      if (sa) addrs.push(`${sa.address}:${sa.portValue}`);
    }
  if (addrs.length === 0)
    throw new Error(`dynamicResources.adsConfig: cluster ${name} has no static endpoint`);
  return addrs.join(',');
}

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function adsKeepalive(
  ads: ApiConfigSource | undefined,
  clusters: ClusterConfig[],
): { intervalMs: number; timeoutMs: number } | null {
  const name = ads?.grpcServices?.[0]?.envoyGrpc?.clusterName;
  const c = name ? clusters.find((x) => x.name === name) : undefined;
  if (!c) return null;
  const typed = c.typedExtensionProtocolOptions?.[HTTP_PROTOCOL_OPTIONS] as HttpProtocolOptions | undefined;
  const ka =
    typed?.explicitHttpConfig?.http2ProtocolOptions?.connectionKeepalive ??
    c.http2ProtocolOptions?.connectionKeepalive;
  if (!ka) return null;
  const where = `staticResources.clusters[${name}]: connection_keepalive`;
  const intervalMs = durationMs(ka.interval, 0);
  const timeoutMs = durationMs(ka.timeout, 0);
  // Envoy requires the timeout; without an interval it only pings idle connections, which an ADS
  // stream never is, so both must be there for this to mean anything.
  if (timeoutMs <= 0) throw new Error(`${where}.timeout is required`);
  // gRPC's keepalive pings at a fixed period: Envoy's jitter cannot be honoured.
  if (ka.intervalJitter !== undefined)
    throw new Error(
      `${where}.interval_jitter is not supported for the xDS connection (pings are not jittered)`,
    );
  if (intervalMs <= 0)
    throw new Error(`${where}.interval is required for the xDS connection (a stream is never idle)`);
  return { intervalMs, timeoutMs };
}

function adsTcpKeepalive(ads: ApiConfigSource | undefined, clusters: ClusterConfig[]): number {
  const name = ads?.grpcServices?.[0]?.envoyGrpc?.clusterName;
  const ka = name
    ? clusters.find((x) => x.name === name)?.upstreamConnectionOptions?.tcpKeepalive
    : undefined;
  if (!ka) return -1;
  // Node sets only the idle time; the probe count and interval stay the operating system's.
  for (const f of ['keepaliveProbes', 'keepaliveInterval'] as const)
    if (ka[f] !== undefined)
      log.warn(
        `staticResources.clusters[${name}]: upstream_connection_options.tcp_keepalive.${f} is not enforced (the operating system's value applies; only keepalive_time is set)`,
      );
  return u32(ka.keepaliveTime, 7200) * 1000;
}

function adsProtocol(ads: ApiConfigSource | undefined): 'delta' | 'sotw' | null {
  const t = ads?.apiType as string | undefined;
  if (t === undefined || t === null) return null;
  if (t === 'DELTA_GRPC' || t === 'AGGREGATED_DELTA_GRPC') return 'delta';
  if (t === 'GRPC' || t === 'AGGREGATED_GRPC') return 'sotw';
  throw new Error(`dynamicResources.adsConfig.apiType: ${t} is not supported (use GRPC or DELTA_GRPC)`);
}

function structToPlain(s: Struct | undefined): Record<string, unknown> {
  if (!s?.fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.fields)) out[k] = valueToPlain(v);
  return out;
}

function valueToPlain(v: Value | null | undefined): unknown {
  if (v === null || typeof v !== 'object') return v;
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return structToPlain(v.structValue);
  if ('listValue' in v) return (v.listValue?.values ?? []).map(valueToPlain);
  return null;
}
