// Sidecar outbound listeners: per-port listeners, virtualOutbound (15001, REDIRECT mode) and the
// HTTP proxy listener on podIP:15001 (local mode, interception NONE).
import { buildHcmFilter, buildTcpProxyFilter } from './http-connection-manager.js';
import { HTTP_PROXY_ROUTE, isHttpPort } from './route-config.js';
import { buildOutboundTcpListeners } from './listener-outbound-tcp.js';
import type { envoy_config_listener_v3_Listener as Listener } from '../xds/envoy-types.js';
import { BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER, socketAddress, wrap } from './envoy.js';
import type { ProxyScope } from './scoping.js';

/** Istio's outbound capture port (virtualOutbound) and, in local mode, the HTTP proxy port. */
export const OUTBOUND_PORT = 15001;

/** The catch-all cluster for unmatched outbound traffic. */
function catchAllCluster(scope: ProxyScope): string {
  return scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
}

/** `virtualOutbound`: 0.0.0.0:15001 with original-destination handoff to the per-port listeners. */
export function buildVirtualOutboundListener(scope: ProxyScope): Listener {
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
 * share `0.0.0.0_PORT` with RDS route config `"PORT"`; TCP and TLS ports get `VIP_PORT` (or
 * `0.0.0.0_PORT`) with tcp_proxy chains (see listener-outbound-tcp.ts).
 */
export function buildOutboundListeners(scope: ProxyScope): Listener[] {
  const http = new Set<number>();
  for (const svc of scope.services) for (const p of svc.ports) if (isHttpPort(p.protocol)) http.add(p.port);
  const out: Listener[] = [];
  for (const port of [...http].sort((a, b) => a - b)) {
    const name = `0.0.0.0_${port}`;
    out.push({
      name,
      address: socketAddress('0.0.0.0', port),
      bindToPort: wrap(false),
      trafficDirection: 'OUTBOUND',
      filterChains: [
        {
          filters: [
            buildHcmFilter({
              statPrefix: `outbound_${name}`,
              rds: String(port),
              pathNormalization: scope.push.mesh.pathNormalization,
            }),
          ],
        },
      ],
    });
  }
  out.push(...buildOutboundTcpListeners(scope, http));
  return out;
}

/** Local mode: the HTTP proxy listener at podIP:15001 routing absolute-form requests by `http_proxy`. */
export function buildHttpProxyListener(scope: ProxyScope): Listener {
  const ip = scope.proxy.ip || '127.0.0.1';
  const name = `${ip}_${OUTBOUND_PORT}`;
  return {
    name,
    address: socketAddress(ip, OUTBOUND_PORT),
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        filters: [
          buildHcmFilter({
            statPrefix: `outbound_${name}`,
            rds: HTTP_PROXY_ROUTE,
            absoluteUrls: true,
            pathNormalization: scope.push.mesh.pathNormalization,
          }),
        ],
      },
    ],
  };
}
