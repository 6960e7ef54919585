// The SDS secret names a set of canonical listeners and clusters refer to (what the proxy subscribes to
// over ADS). Secrets whose sdsConfig points at the `sds-grpc` cluster come from the proxy's own
// certificate agent, as Envoy's come from istio-agent, and are left out.
import type {
  envoy_config_core_v3_ConfigSource as ConfigSource,
  envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig as SdsSecretConfig,
} from '../../xds/envoy-types.js';

/** Cluster name Istio's sidecars use for the agent's SDS server; configs naming it are served locally. */
export const AGENT_SDS_CLUSTER = 'sds-grpc';

/** True when an sdsConfig (ConfigSource) points at the local agent rather than ADS. */
export function isAgentSdsConfig(cfg: ConfigSource | null | undefined): boolean {
  const services = cfg?.apiConfigSource?.grpcServices;
  return Array.isArray(services) && services.some((g) => g?.envoyGrpc?.clusterName === AGENT_SDS_CLUSTER);
}

const cache = new WeakMap<object, readonly string[]>();

/** Secret names referenced by SDS configs anywhere inside `resources` (memoized per resource object). */
export function sdsNames(resources: Iterable<unknown>): string[] {
  const out = new Set<string>();
  for (const r of resources) {
    if (!r || typeof r !== 'object') continue;
    let names = cache.get(r);
    if (!names) {
      const found = new Set<string>();
      walk(r, found, 0);
      names = [...found];
      cache.set(r, names);
    }
    for (const n of names) out.add(n);
  }
  return [...out].sort();
}

function walk(v: unknown, out: Set<string>, depth: number): void {
  if (depth > 40 || !v || typeof v !== 'object' || Buffer.isBuffer(v)) return;
  if (Array.isArray(v)) {
    for (const x of v) walk(x, out, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const s of (o.tlsCertificateSdsSecretConfigs as SdsSecretConfig[] | undefined) ?? [])
    if (s?.name && !isAgentSdsConfig(s.sdsConfig)) out.add(s.name);
  const vc = o.validationContextSdsSecretConfig as SdsSecretConfig | undefined;
  if (vc?.name && !isAgentSdsConfig(vc.sdsConfig)) out.add(vc.name);
  for (const k in o) walk(o[k], out, depth + 1);
}
