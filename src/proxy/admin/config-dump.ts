// Admin /config_dump: an envoy.admin.v3.ConfigDump in canonical form (camelCase, Any with '@type').
import type { AdminContext } from './admin-context.js';
import type {
  AnyMessageOf,
  envoy_extensions_transport_sockets_tls_v3_Secret as Secret,
} from '../../xds/envoy-types.js';

const T = 'type.googleapis.com/';
const ADMIN = `${T}envoy.admin.v3.`;

function typed(typeName: string, obj: object | null | undefined): AnyMessageOf {
  return { '@type': T + typeName, ...obj };
}

/** Builds the dump; `resource` filters to one repeated field (Envoy's ?resource=). */
export function buildConfigDump(ctx: AdminContext, includeEds: boolean, resource: string | null): unknown {
  const { config, clusters, listeners } = ctx;
  const clusterEntries = [...clusters.entries.values()];
  const listenerEntries = [...listeners.entries.values()];
  const staticRoutes: Record<string, unknown>[] = [];
  for (const e of listenerEntries) {
    for (const ch of e.listener.config.allChains()) {
      const t = ch.hcm?.config.staticTable;
      if (t)
        staticRoutes.push({
          routeConfig: typed('envoy.config.route.v3.RouteConfiguration', t.config),
          lastUpdated: e.lastUpdated,
        });
    }
  }
  const configs: unknown[] = [
    { '@type': `${ADMIN}BootstrapConfigDump`, bootstrap: ctx.bootstrap },
    {
      '@type': `${ADMIN}ClustersConfigDump`,
      versionInfo: config.versions.get(`${T}envoy.config.cluster.v3.Cluster`) ?? '',
      staticClusters: clusterEntries
        .filter((e) => e.source === 'static')
        .map((e) => ({
          cluster: typed('envoy.config.cluster.v3.Cluster', e.cluster.config),
          lastUpdated: e.lastUpdated,
        })),
      dynamicActiveClusters: clusterEntries
        .filter((e) => e.source === 'dynamic')
        .map((e) => ({
          versionInfo: e.version,
          cluster: typed('envoy.config.cluster.v3.Cluster', e.cluster.config),
          lastUpdated: e.lastUpdated,
        })),
    },
    {
      '@type': `${ADMIN}ListenersConfigDump`,
      versionInfo: config.versions.get(`${T}envoy.config.listener.v3.Listener`) ?? '',
      staticListeners: listenerEntries
        .filter((e) => e.source === 'static')
        .map((e) => ({
          listener: typed('envoy.config.listener.v3.Listener', e.listener.config.config),
          lastUpdated: e.lastUpdated,
        })),
      dynamicListeners: listenerEntries
        .filter((e) => e.source === 'dynamic')
        .map((e) => ({
          name: e.listener.config.name,
          activeState: {
            versionInfo: e.version,
            listener: typed('envoy.config.listener.v3.Listener', e.listener.config.config),
            lastUpdated: e.lastUpdated,
          },
        })),
    },
    {
      '@type': `${ADMIN}RoutesConfigDump`,
      staticRouteConfigs: staticRoutes,
      dynamicRouteConfigs: [...config.routes.values()].map((r) => ({
        versionInfo: r.version,
        routeConfig: typed('envoy.config.route.v3.RouteConfiguration', r.table.config),
        lastUpdated: r.lastUpdated,
      })),
    },
  ];
  configs.push(secretsDump(ctx));
  if (includeEds) {
    configs.push({
      '@type': `${ADMIN}EndpointsConfigDump`,
      staticEndpointConfigs: clusterEntries
        .filter((e) => e.cluster.type !== 'EDS' && e.cluster.assignment)
        .map((e) => ({
          endpointConfig: typed('envoy.config.endpoint.v3.ClusterLoadAssignment', {
            clusterName: e.cluster.name,
            ...e.cluster.assignment,
          }),
        })),
      dynamicEndpointConfigs: clusterEntries
        .filter((e) => e.cluster.type === 'EDS' && e.cluster.assignment)
        .map((e) => ({
          endpointConfig: typed('envoy.config.endpoint.v3.ClusterLoadAssignment', e.cluster.assignment),
        })),
    });
  }
  const errors = [...config.lastErrors.entries()].filter(([, m]) => m !== '');
  if (errors.length > 0) {
    // Not in Envoy's dump: the last NACK per type, so users see why an update was rejected.
    configs.push({
      '@type': `${T}mizzen.admin.RejectedUpdates`,
      rejected: errors.map(([typeUrl, message]) => ({ typeUrl, message })),
    });
  }
  if (resource) {
    const out: unknown[] = [];
    for (const c of configs) {
      const items = (c as Record<string, unknown>)[resource];
      if (Array.isArray(items)) for (const item of items as unknown[]) out.push(item);
    }
    return { configs: out };
  }
  return { configs };
}

/** Envoy's SecretsConfigDump: static and SDS secrets, private keys redacted as Envoy does. */
function secretsDump(ctx: AdminContext): unknown {
  const entries = [...ctx.config.secrets.entries.values()];
  const shown = (e: (typeof entries)[number]): AnyMessageOf =>
    typed('envoy.extensions.transport_sockets.tls.v3.Secret', redact(e.secret));
  return {
    '@type': `${ADMIN}SecretsConfigDump`,
    staticSecrets: entries
      .filter((e) => e.source === 'static')
      .map((e) => ({ name: e.name, lastUpdated: e.lastUpdated, secret: shown(e) })),
    dynamicActiveSecrets: entries
      .filter((e) => e.source !== 'static')
      .map((e) => ({ name: e.name, versionInfo: e.version, lastUpdated: e.lastUpdated, secret: shown(e) })),
  };
}

function redact(secret: Secret | undefined): object | undefined {
  const pk = secret?.tlsCertificate?.privateKey;
  const out =
    !pk || pk.filename !== undefined
      ? secret
      : {
          ...secret,
          tlsCertificate: { ...secret.tlsCertificate, privateKey: { inlineString: '[redacted]' } },
        };
  // The same shape with bytes fields as base64 strings.
  return bytesAsBase64(out) as object | undefined;
}

/** Bytes as proto3 JSON shows them (base64), not as Node's Buffer JSON. */
function bytesAsBase64(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(bytesAsBase64);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = bytesAsBase64(x);
    return o;
  }
  return v;
}
