// Sidecar `egress` listeners with a port when traffic is not captured (interception mode NONE, as in
// local mode): a real listener the app connects to, for the services of that entry's hosts on that
// port — HTTP through the port's route config, TCP by tcp rules, TLS by tls rules and SNI.
import type { IstioEgressListener } from '../api/kinds/networking/sidecar.js';
import { hostMatches } from '../registry/host.js';
import { parseProtocol } from '../registry/protocol.js';
import type { MeshService } from '../registry/model.js';
import { buildHcmFilter } from './http-connection-manager.js';
import { buildTcpChains, tcpListener } from './listener-outbound-tcp.js';
import { isHttpPort } from './route-config.js';
import type { envoy_config_listener_v3_Listener as Listener } from '../xds/envoy-types.js';
import { socketAddress } from './envoy.js';
import type { ProxyScope } from './scoping.js';

/**
 * One listener per Sidecar egress entry that names a port. Istio binds such listeners to 127.0.0.1
 * when nothing is captured; Mizzen binds them to the pod IP instead (every local pod shares the
 * loopback), unless `bind` says otherwise. Unix sockets are not supported.
 */
export function buildSidecarEgressListeners(scope: ProxyScope): Listener[] {
  const out: Listener[] = [];
  for (const l of scope.sidecar?.spec?.egress ?? []) {
    const port = l.port?.number;
    if (!port || l.bind?.startsWith('unix://')) continue;
    const bind = l.bind || scope.proxy.ip || '127.0.0.1';
    const services = scope.services.filter(
      (s) => admits(l, scope, s) && s.ports.some((p) => p.port === port),
    );
    const declared = l.port?.protocol ? parseProtocol(l.port.protocol) : undefined;
    const protocol = declared ?? services[0]?.ports.find((p) => p.port === port)?.protocol ?? 'TCP';
    const name = `${bind}_${port}`;
    if (isHttpPort(protocol)) {
      out.push({
        name,
        address: socketAddress(bind, port),
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
      continue;
    }
    const tls = protocol === 'TLS' || protocol === 'HTTPS';
    const chains = buildTcpChains(scope, port, services, tls, true);
    if (chains.list.length > 0) out.push(tcpListener(name, bind, port, chains, true));
  }
  return out;
}

/** True when one of the entry's `namespace/host` patterns admits the service. */
function admits(l: IstioEgressListener, scope: ProxyScope, svc: MeshService): boolean {
  const own = scope.sidecar?.metadata.namespace ?? scope.proxy.namespace;
  return l.hosts.some((h) => {
    const slash = h.indexOf('/');
    const ns = slash < 0 ? '*' : h.slice(0, slash);
    const host = (slash < 0 ? h : h.slice(slash + 1)).toLowerCase();
    if (ns === '~') return false;
    if (ns !== '*' && (ns === '.' ? own : ns) !== svc.namespace) return false;
    return hostMatches(host, svc.hostname);
  });
}
