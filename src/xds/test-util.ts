// Test helpers for src/xds: canonical resource builders in Istio's shapes; waitFor (from api's test-util).
import type { CanonicalObject } from './protos.js';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export { waitFor } from '../api/test-util.js';

/** Resolves after `ms` (to pace input, e.g. a slow generator; never to wait for an outcome: use waitFor). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An HCM with RDS over ADS and the router filter, as Istio builds it. */
export function hcmWithRds(routeConfigName: string, statPrefix: string): CanonicalObject {
  return {
    '@type': HCM,
    statPrefix,
    rds: { configSource: { ads: {}, resourceApiVersion: 'V3' }, routeConfigName },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
  };
}

/** A sidecar-style outbound listener `0.0.0.0_<port>` whose HCM fetches route config `<port>` over ADS. */
export function outboundListener(port: number): CanonicalObject {
  return {
    name: `0.0.0.0_${port}`,
    address: { socketAddress: { address: '0.0.0.0', portValue: port } },
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: hcmWithRds(String(port), `outbound_0.0.0.0_${port}`),
          },
        ],
      },
    ],
  };
}

/** A proxyless-gRPC API listener named `<host>:<port>` (Istio's shape for gRPC xDS clients). */
export function apiListener(hostPort: string): CanonicalObject {
  return {
    name: hostPort,
    apiListener: { apiListener: hcmWithRds(hostPort, hostPort) },
  };
}

/** A RouteConfiguration with one virtual host sending every path to `cluster`. */
export function routeConfig(name: string, domains: string[], cluster: string): CanonicalObject {
  return {
    name,
    virtualHosts: [{ name: domains[0], domains, routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
  };
}

/** An EDS cluster fetching its endpoints over ADS. */
export function edsCluster(name: string): CanonicalObject {
  return {
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: name },
    connectTimeout: { seconds: 10 },
    lbPolicy: 'ROUND_ROBIN',
  };
}

/** A ClusterLoadAssignment with the given `host:port` endpoints in one locality. */
export function loadAssignment(clusterName: string, endpoints: Array<[string, number]>): CanonicalObject {
  return {
    clusterName,
    endpoints: [
      {
        locality: {},
        lbEndpoints: endpoints.map(([address, port]) => ({
          endpoint: { address: { socketAddress: { address, portValue: port } } },
          healthStatus: 'HEALTHY',
          loadBalancingWeight: { value: 1 },
        })),
        loadBalancingWeight: { value: 1 },
      },
    ],
  };
}
