// Proxyless gRPC (node metadata GENERATOR=grpc): API listeners named `host:port` for `xds:///host:port`
// targets, their route configs, and EDS clusters gRPC understands (with Istio mutual TLS from
// certificate providers when a DestinationRule asks for ISTIO_MUTUAL); servers' inbound listeners.
import { resolveHost } from '../registry/host.js';
import type { MeshService } from '../registry/model.js';
import { isHttpPort, serviceRoutes } from './route-config.js';
import { serviceDomains } from './domains.js';
import { buildHcmConfig } from './http-connection-manager.js';
import { buildOutboundCluster } from './cluster.js';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_listener_v3_Listener as Listener,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../xds/envoy-types.js';
import { parseOutboundClusterName, wrap } from './envoy.js';
import type { ProxyScope } from './scoping.js';
import { buildGrpcClusterTls } from './proxyless-grpc-tls.js';
import { buildGrpcInboundListener, GRPC_INBOUND_PREFIX } from './proxyless-grpc-inbound.js';
import { warnOnce as warn } from './generator-warnings.js';

/** A `host:port` target resolved to a visible service port; null when unknown. */
export function resolveTarget(scope: ProxyScope, name: string): { svc: MeshService; port: number } | null {
  const colon = name.lastIndexOf(':');
  if (colon <= 0) return null;
  const port = Number(name.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0) return null;
  const svc = scope.service(resolveHost(name.slice(0, colon), scope.proxy.namespace));
  if (!svc || !svc.ports.some((p) => p.port === port)) return null;
  return { svc, port };
}

/** Every `fqdn:port` a gRPC client may target (for a wildcard LDS request). */
function allTargets(scope: ProxyScope): string[] {
  const out: string[] = [];
  for (const svc of scope.services)
    for (const p of svc.ports) if (isHttpPort(p.protocol)) out.push(`${svc.hostname}:${p.port}`);
  return out;
}

/**
 * API listeners for the requested client targets (all visible ones when `names` is empty), and the
 * inbound listeners gRPC servers ask for by name.
 */
export function buildGrpcListeners(scope: ProxyScope, names: readonly string[]): Listener[] {
  const out: Listener[] = [];
  for (const name of names.length > 0 ? names : allTargets(scope)) {
    if (name.startsWith(GRPC_INBOUND_PREFIX)) {
      const l = buildGrpcInboundListener(scope, name);
      if (l) out.push(l);
      continue;
    }
    if (!resolveTarget(scope, name)) continue;
    out.push({
      name,
      apiListener: { apiListener: buildHcmConfig({ statPrefix: name, rds: name, grpc: true }) },
    });
  }
  return out;
}

/** The route config of a target: one virtual host matching the target as written and the service's names. */
export function buildGrpcRouteConfig(scope: ProxyScope, name: string): RouteConfiguration | null {
  const t = resolveTarget(scope, name);
  if (!t) return null;
  const vss = scope.virtualServices(new Set(['mesh']));
  const domains = [name, ...serviceDomains(t.svc, t.port, scope.proxy.namespace).filter((d) => d !== name)];
  return {
    name,
    virtualHosts: [
      {
        name: `${t.svc.hostname}:${t.port}`,
        domains,
        routes: serviceRoutes(scope, t.svc, t.port, vss, true),
      },
    ],
    validateClusters: wrap(false),
  };
}

/** The requested outbound clusters, for gRPC (EDS, ROUND_ROBIN or RING_HASH; Istio mutual TLS per DestinationRule). */
export function buildGrpcClusters(scope: ProxyScope, names: readonly string[]): Cluster[] {
  const out: Cluster[] = [];
  for (const name of names) {
    const p = parseOutboundClusterName(name);
    if (!p) continue;
    const svc = scope.service(p.host);
    const port = svc?.ports.find((x) => x.port === p.port);
    if (!svc || !port) continue;
    if (
      p.subset &&
      !scope.destinationRule(svc.hostname)?.resource.spec.subsets?.some((s) => s.name === p.subset)
    )
      continue;
    const c = buildOutboundCluster(scope, svc, port, p.subset, { grpc: true });
    const tls = buildGrpcClusterTls(scope, svc, port, p.subset);
    if (tls.transportSocket) c.transportSocket = tls.transportSocket;
    for (const w of tls.warnings) warn(`proxyless gRPC client ${scope.proxy.id}: cluster ${name}: ${w}`);
    out.push(c);
  }
  return out;
}
