// Sidecar outbound listeners: per-port listeners, virtualOutbound (15001, REDIRECT mode) and the
// HTTP proxy listener on podIP:15001 (local mode, interception NONE).
import type { TCPRoute } from '../api/kinds/networking/virtual-service.js';
import type { MeshService, ServicePort } from '../registry/model.js';
import { buildHcmFilter, buildTcpProxyFilter } from './http-connection-manager.js';
import { HTTP_PROXY_ROUTE, isHttpPort, virtualServiceForHost } from './route-config.js';
import { destinationCluster } from './route-action.js';
import {
  BLACKHOLE_CLUSTER,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  wrap,
  type Envoy,
} from './envoy.js';
import type { ProxyScope } from './scoping.js';

/** Istio's outbound capture port (virtualOutbound) and, in local mode, the HTTP proxy port. */
export const OUTBOUND_PORT = 15001;

const MESH: ReadonlySet<string> = new Set(['mesh']);

/** The catch-all cluster for unmatched outbound traffic. */
function catchAllCluster(scope: ProxyScope): string {
  return scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
}

/** `virtualOutbound`: 0.0.0.0:15001 with original-destination handoff to the per-port listeners. */
export function buildVirtualOutboundListener(scope: ProxyScope): Envoy {
  const cluster = catchAllCluster(scope);
  return {
    name: 'virtualOutbound',
    address: socketAddress('0.0.0.0', OUTBOUND_PORT),
    useOriginalDst: wrap(true),
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        name: 'virtualOutbound-catchall-tcp',
        filters: [buildTcpProxyFilter(cluster, [{ name: cluster, weight: 1 }])],
      },
    ],
  };
}

/**
 * The per-port outbound listeners (not bound; virtualOutbound hands connections over): HTTP ports
 * share `0.0.0.0_PORT` with RDS route config `"PORT"`; TCP ports get `VIP_PORT` (or `0.0.0.0_PORT`)
 * with a tcp_proxy.
 */
export function buildOutboundListeners(scope: ProxyScope): Envoy[] {
  const http = new Set<number>();
  const tcp = new Map<string, { svc: MeshService; port: ServicePort; address: string }>();
  for (const svc of scope.services) {
    for (const p of svc.ports) {
      if (isHttpPort(p.protocol)) http.add(p.port);
      else if (p.protocol !== 'UDP') {
        const address = svc.addresses.find((a) => !a.includes('/')) ?? '0.0.0.0';
        const key = `${address}_${p.port}`;
        if (!tcp.has(key)) tcp.set(key, { svc, port: p, address });
      }
    }
  }
  const out: Envoy[] = [];
  for (const port of [...http].sort((a, b) => a - b)) {
    const name = `0.0.0.0_${port}`;
    out.push({
      name,
      address: socketAddress('0.0.0.0', port),
      bindToPort: wrap(false),
      trafficDirection: 'OUTBOUND',
      filterChains: [{ filters: [buildHcmFilter({ statPrefix: `outbound_${name}`, rds: String(port) })] }],
    });
  }
  for (const [name, t] of tcp) {
    if (t.address === '0.0.0.0' && http.has(t.port.port)) continue; // HTTP owns the wildcard listener
    out.push({
      name,
      address: socketAddress(t.address, t.port.port),
      bindToPort: wrap(false),
      trafficDirection: 'OUTBOUND',
      filterChains: [
        {
          filters: [
            buildTcpProxyFilter(
              `outbound|${t.port.port}||${t.svc.hostname}`,
              tcpClusters(scope, t.svc, t.port.port),
            ),
          ],
        },
      ],
    });
  }
  return out;
}

/** The clusters of a TCP service port: its VirtualService's first applicable tcp route, else the service itself. */
export function tcpClusters(
  scope: ProxyScope,
  svc: MeshService,
  port: number,
): { name: string; weight: number }[] {
  const vs = virtualServiceForHost(scope.virtualServices(MESH), svc.hostname);
  const rule: TCPRoute | undefined = vs?.resource.spec.tcp?.find(
    (r) =>
      !r.match ||
      r.match.length === 0 ||
      r.match.some(
        (m) =>
          (m.port === undefined || m.port === port) &&
          (!m.sourceLabels || Object.entries(m.sourceLabels).every(([k, v]) => scope.proxy.labels[k] === v)),
      ),
  );
  if (vs && rule?.route?.length) {
    const ctx = { scope, port, grpc: false };
    const out: { name: string; weight: number }[] = [];
    for (const d of rule.route) {
      const name = destinationCluster(ctx, d.destination, vs.namespace);
      if (name && (rule.route.length === 1 || (d.weight ?? 0) > 0)) out.push({ name, weight: d.weight ?? 1 });
    }
    if (out.length > 0) return out;
  }
  return [{ name: outboundClusterName(port, '', svc.hostname), weight: 1 }];
}

/** Local mode: the HTTP proxy listener at podIP:15001 routing absolute-form requests by `http_proxy`. */
export function buildHttpProxyListener(scope: ProxyScope): Envoy {
  const ip = scope.proxy.ip || '127.0.0.1';
  const name = `${ip}_${OUTBOUND_PORT}`;
  return {
    name,
    address: socketAddress(ip, OUTBOUND_PORT),
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        filters: [
          buildHcmFilter({ statPrefix: `outbound_${name}`, rds: HTTP_PROXY_ROUTE, absoluteUrls: true }),
        ],
      },
    ],
  };
}
