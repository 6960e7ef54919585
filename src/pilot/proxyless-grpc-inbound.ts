// Proxyless gRPC servers (XdsServer, Istio's grpcgen inbound listeners): a gRPC app bound at ip:port
// asks for `xds.istio.io/grpc/lds/inbound/ip:port` and gets one filter chain under its
// PeerAuthentication: STRICT → a DownstreamTlsContext over the bootstrap's certificate provider
// `default` requiring a client certificate; DISABLE → plaintext. gRPC cannot tell TLS from plaintext
// on one port, so PERMISSIVE is served as Istio serves it: STRICT when the workload is labelled for
// auto mTLS (tlsMode=istio, its clients send mTLS), else plaintext.
import type {
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_listener_v3_FilterChain as FilterChain,
  envoy_config_listener_v3_Listener as Listener,
} from '../xds/envoy-types.js';
import { anyOf, FILTERS, TYPES, wrap } from './envoy.js';
import { inboundMtlsMode } from './inbound-mtls.js';
import { TLS_MODE_LABEL } from './cluster-tls.js';
import { policiesFor } from './authz/policy-selection.js';
import { buildGrpcCommonTlsContext } from './proxyless-grpc-tls.js';
import { warnOnce as warn } from './generator-warnings.js';
import type { ProxyScope } from './scoping.js';

/** The prefix of the listener names gRPC servers ask for (the bootstrap's template without `%s`). */
export const GRPC_INBOUND_PREFIX = 'xds.istio.io/grpc/lds/inbound/';

/** `ip:port` (or `[ip6]:port`) of an inbound listener name; null when malformed. */
function parseListenAddress(name: string): { host: string; port: number } | null {
  const at = name.slice(GRPC_INBOUND_PREFIX.length);
  const colon = at.lastIndexOf(':');
  const port = Number(at.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return { host: at.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** The mTLS mode the gRPC server's chain gets at `port`, with Istio's PERMISSIVE mapping. */
function grpcServerMode(scope: ProxyScope, port: number): 'STRICT' | 'DISABLE' {
  const mode = inboundMtlsMode(scope, port);
  if (mode === 'STRICT') return 'STRICT';
  if (mode === 'PERMISSIVE' && scope.proxy.labels[TLS_MODE_LABEL] === 'istio') return 'STRICT';
  return 'DISABLE';
}

/** The one HTTP connection manager of a gRPC server chain: every call is served by the app itself. */
function inboundHcm(suffix: string): Filter {
  return {
    name: `inbound-hcm${suffix}`,
    typedConfig: anyOf(TYPES.HCM, {
      statPrefix: 'inbound',
      routeConfig: {
        name: 'inbound',
        virtualHosts: [
          { name: 'inbound', domains: ['*'], routes: [{ match: { prefix: '/' }, nonForwardingAction: {} }] },
        ],
      },
      httpFilters: [{ name: FILTERS.ROUTER, typedConfig: anyOf(TYPES.ROUTER, {}) }],
    }),
  };
}

/** The inbound listener a gRPC server asked for by name, or null when the proxy serves no such port. */
export function buildGrpcInboundListener(scope: ProxyScope, name: string): Listener | null {
  const who = `proxyless gRPC server ${scope.proxy.id}: listener ${name}`;
  const at = parseListenAddress(name);
  if (!at) {
    warn(`${who}: not an ip:port after ${GRPC_INBOUND_PREFIX}`);
    return null;
  }
  const ports = scope.push.registry.inboundPorts(scope.proxy.ip, scope.proxy.namespace, scope.workload?.name);
  if (!ports.some((p) => p.targetPort === at.port)) {
    warn(`${who}: no service selects this workload on port ${at.port}; the server is not served`);
    return null;
  }
  const mode = grpcServerMode(scope, at.port);
  const declared = inboundMtlsMode(scope, at.port);
  if (declared === 'PERMISSIVE' && mode === 'DISABLE' && hasPeerAuthentication(scope))
    warn(
      `${who}: PeerAuthentication PERMISSIVE is served as plaintext only (gRPC cannot accept TLS and plaintext on one port, as in Istio); mTLS clients are refused`,
    );
  const policies = policiesFor(scope, 'AuthorizationPolicy');
  if (policies.length > 0)
    warn(
      `${who}: AuthorizationPolicy ${policies.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`).join(', ')} is not enforced (gRPC's xDS RBAC is experimental in grpc-js-xds and not generated)`,
    );
  const chain: FilterChain = { name: mode === 'STRICT' ? 'inbound-mtls' : 'inbound-plaintext' };
  chain.filters = [inboundHcm(mode === 'STRICT' ? 'mtls' : 'plaintext')];
  if (mode === 'STRICT')
    chain.transportSocket = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: anyOf(TYPES.DOWNSTREAM_TLS, {
        commonTlsContext: buildGrpcCommonTlsContext([]),
        requireClientCertificate: wrap(true),
      }),
    };
  return {
    name,
    address: { socketAddress: { address: at.host, portValue: at.port } },
    filterChains: [chain],
  };
}

/** True when a PeerAuthentication applies to the proxy's namespace (its mode was chosen, not defaulted). */
function hasPeerAuthentication(scope: ProxyScope): boolean {
  return policiesFor(scope, 'PeerAuthentication').length > 0;
}
