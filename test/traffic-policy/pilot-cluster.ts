// Test helper: a DestinationRule in YAML → pilot's real Envoy cluster for it, re-pointed at local
// backends (STATIC endpoints on 127.0.0.1) so the proxy under test runs exactly what pilot emits.
import { TypeUrl } from '../../src/xds/type-urls.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../src/xds/envoy-types.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from '../../src/pilot/test-util.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: httpbin }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: httpbin-0, labels: { app: httpbin } }
spec: { containers: [{ name: h }] }
status: { podIP: 127.1.0.4 }
`;

/** The outbound cluster name pilot gives httpbin:8000. */
export const CLUSTER = 'outbound|8000||httpbin.default.svc.cluster.local';

/** Pilot's cluster for httpbin with `destinationRule` applied, endpoints replaced by `ports` on 127.0.0.1. */
export function pilotCluster(destinationRule: string, ports: number[]): ClusterConfig {
  const g = generatorFor(pushFromYaml(SERVICE, destinationRule));
  const client = proxyRef({ ip: '127.1.0.9', name: 'sleep-0', metadata: { INTERCEPTION_MODE: 'NONE' } });
  const c = g.generate(client, TypeUrl.CLUSTER, []).find((x) => x.name === CLUSTER);
  if (!c) throw new Error('pilot emitted no httpbin cluster');
  // Decoded from the wire, so it has the generated type's shape.
  const out = { ...roundTrip(TypeUrl.CLUSTER, c) } as ClusterConfig;
  delete out.edsClusterConfig;
  out.type = 'STATIC';
  out.loadAssignment = {
    clusterName: CLUSTER,
    endpoints: [
      {
        lbEndpoints: ports.map((p) => ({
          endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } },
        })),
      },
    ],
  };
  return out;
}
