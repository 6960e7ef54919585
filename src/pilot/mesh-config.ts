// Mesh-wide settings (Istio's MeshConfig), read from the ConfigMap `istio` in istio-system (key `mesh`).
import { parse } from 'yaml';
import { parseDuration } from '../api/duration.js';
import type { ConfigSnapshot } from '../config/store.js';
import { mapping } from './yaml-mapping.js';
import { meshExtAuthzOf, NO_EXT_AUTHZ, type MeshExtAuthz } from './authz/ext-authz-provider.js';
import { DEFAULT_MESH_TELEMETRY, meshTelemetryOf, type MeshTelemetry } from './telemetry/mesh-telemetry.js';

/** The MeshConfig fields Mizzen honours. */
export interface MeshConfig {
  /** ALLOW_ANY (default): unknown destinations pass through; REGISTRY_ONLY: they are blocked. */
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Namespace whose Sidecar/DestinationRule apply mesh-wide (default istio-system). */
  readonly rootNamespace: string;
  /** Connect timeout of clusters without a DestinationRule setting, ms (default 10 s). */
  readonly connectTimeoutMs: number;
  /** `pathNormalization.normalization`: how proxies normalize request paths before routing (default BASE). */
  readonly pathNormalization: PathNormalization;
  /** Proxies in front of gateways whose X-Forwarded-For entries are trusted (defaultConfig.gatewayTopology.numTrustedProxies, default 0). */
  readonly numTrustedProxies: number;
  /** Telemetry settings (access logs, providers, tracing sampling). */
  readonly telemetry: MeshTelemetry;
  /** SPIFFE trust domain of workload identities (default cluster.local). */
  readonly trustDomain: string;
  /** Auto mTLS: clients send Istio mutual TLS to workloads with sidecars (default true). */
  readonly enableAutoMtls: boolean;
  /** extensionProviders envoyExtAuthzHttp / envoyExtAuthzGrpc (AuthorizationPolicy CUSTOM). */
  readonly extAuthz: MeshExtAuthz;
}

/** MeshConfig.ProxyPathNormalization.NormalizationType (DEFAULT is BASE). */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

const PATH_NORMALIZATIONS: readonly string[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

/** The normalization a MeshConfig value names; DEFAULT and absent mean BASE (unknown names are rejected at load: api/kinds/kubernetes/mesh-config.ts). */
export function pathNormalizationOf(v: unknown): PathNormalization {
  return typeof v === 'string' && PATH_NORMALIZATIONS.includes(v) ? (v as PathNormalization) : 'BASE';
}

/** Istio's defaults. */
export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  outboundTrafficPolicy: 'ALLOW_ANY',
  rootNamespace: 'istio-system',
  connectTimeoutMs: 10_000,
  pathNormalization: 'BASE',
  numTrustedProxies: 0,
  telemetry: DEFAULT_MESH_TELEMETRY,
  trustDomain: 'cluster.local',
  enableAutoMtls: true,
  extAuthz: NO_EXT_AUTHZ,
});

/** Reads MeshConfig from the snapshot (defaults where absent or unreadable). */
export function meshConfigOf(snapshot: ConfigSnapshot): MeshConfig {
  const cm = snapshot.get('ConfigMap', 'istio-system', 'istio');
  const text = (cm?.data as Record<string, string> | undefined)?.mesh;
  if (typeof text !== 'string') return DEFAULT_MESH_CONFIG;
  let mesh: Record<string, unknown>;
  try {
    mesh = (parse(text) as Record<string, unknown> | null) ?? {};
  } catch {
    return DEFAULT_MESH_CONFIG;
  }
  const mode = mapping(mesh.outboundTrafficPolicy).mode;
  return {
    outboundTrafficPolicy: mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
    rootNamespace: typeof mesh.rootNamespace === 'string' ? mesh.rootNamespace : 'istio-system',
    connectTimeoutMs: connectTimeoutOf(mesh.connectTimeout),
    pathNormalization: pathNormalizationOf(mapping(mesh.pathNormalization).normalization),
    numTrustedProxies: trustedProxies(mapping(mapping(mesh.defaultConfig).gatewayTopology).numTrustedProxies),
    telemetry: meshTelemetryOf(mesh),
    trustDomain:
      typeof mesh.trustDomain === 'string' && mesh.trustDomain ? mesh.trustDomain : 'cluster.local',
    enableAutoMtls: mesh.enableAutoMtls !== false,
    extAuthz: meshExtAuthzOf(mesh),
  };
}

function trustedProxies(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** MeshConfig connectTimeout (Istio's default 10 s); values validation refused fall back to it. */
function connectTimeoutOf(v: unknown): number {
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  return ms !== undefined && ms > 0 ? ms : DEFAULT_MESH_CONFIG.connectTimeoutMs;
}
