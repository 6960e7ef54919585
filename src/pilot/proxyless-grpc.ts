// Proxyless gRPC clients (node metadata GENERATOR=grpc): API listeners named `host:port` for
// `xds:///host:port` targets, their route configs, and plain EDS clusters gRPC understands.
import { resolveHost } from '../registry/host.js';
import type { MeshService } from '../registry/model.js';
import { isHttpPort, serviceRoutes } from './route-config.js';
import { serviceDomains } from './domains.js';
import { buildHcmConfig } from './http-connection-manager.js';
import { buildOutboundCluster } from './cluster.js';
import { parseOutboundClusterName, wrap, type Envoy } from './envoy.js';
import type { ProxyScope } from './scoping.js';
import { TLS_MODE_LABEL } from './cluster-tls.js';
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

/** API listeners for the requested targets (all visible ones when `names` is empty). */
export function buildGrpcListeners(scope: ProxyScope, names: readonly string[]): Envoy[] {
  const out: Envoy[] = [];
  for (const name of names.length > 0 ? names : allTargets(scope)) {
    if (!resolveTarget(scope, name)) continue;
    out.push({
      name,
      apiListener: { apiListener: buildHcmConfig({ statPrefix: name, rds: name, grpc: true }) },
    });
  }
  return out;
}

/** The route config of a target: one virtual host matching the target as written and the service's names. */
export function buildGrpcRouteConfig(scope: ProxyScope, name: string): Envoy | null {
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

/**
 * Why a proxyless gRPC client's plaintext to this destination does not do what the config says, or
 * null: a DestinationRule asks for TLS, or an endpoint with a sidecar requires mutual TLS (STRICT).
 */
export function proxylessTlsGap(
  scope: ProxyScope,
  svc: MeshService,
  port: number,
  subset: string,
): string | null {
  const dr = scope.destinationRule(svc.hostname)?.resource.spec;
  const tls =
    dr?.subsets?.find((s) => s.name === subset)?.trafficPolicy?.tls ??
    dr?.trafficPolicy?.portLevelSettings?.find((s) => s.port?.number === port)?.tls ??
    dr?.trafficPolicy?.tls;
  if (tls?.mode && tls.mode !== 'DISABLE')
    return `DestinationRule tls mode ${tls.mode} is not applied: proxyless gRPC security (xDS credentials with certificate providers) is not implemented, so the client sends plaintext`;
  for (const e of scope.push.registry.endpoints(svc, port))
    if (
      e.labels[TLS_MODE_LABEL] === 'istio' &&
      scope.push.peerAuthn.modeFor(e.namespace, e.labels, e.port).mode === 'STRICT'
    )
      return `endpoint ${e.address}:${e.port} requires mutual TLS (PeerAuthentication STRICT), but proxyless gRPC security is not implemented: its plaintext is refused`;
  return null;
}

/** The requested outbound clusters, for gRPC (EDS, ROUND_ROBIN or RING_HASH). */
export function buildGrpcClusters(scope: ProxyScope, names: readonly string[]): Envoy[] {
  const out: Envoy[] = [];
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
    // gRPC's xDS security needs certificate providers in its bootstrap (Istio's agent writes them);
    // Mizzen does not drive them yet, so a destination that needs TLS is warned, never quietly plaintext.
    delete c.transportSocket;
    const gap = proxylessTlsGap(scope, svc, port.port, p.subset);
    if (gap) warn(`proxyless gRPC client ${scope.proxy.id}: cluster ${name}: ${gap}`);
    out.push(c);
  }
  return out;
}
