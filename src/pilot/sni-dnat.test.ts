// AUTO_PASSTHROUGH (Istio's east-west gateway): per service port and subset the gateway gets an SNI-DNAT
// cluster named `outbound_.PORT_.SUBSET_.HOST` without TLS origination, its endpoints by that name over
// EDS (the subset's only), and a filter chain matching that SNI.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: default }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1-0, labels: { app: reviews, version: v1 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.4 }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v2-0, labels: { app: reviews, version: v2 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.5 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
  subsets: [{ name: v1, labels: { version: v1 } }]
`;

const gatewayYaml = (mode: string): string => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: cross-network-gateway, namespace: istio-system }
spec:
  selector: { istio: eastwestgateway }
  servers:
  - port: { number: 15443, name: tls, protocol: TLS }
    tls: { mode: ${mode} }
    hosts: ["*.local"]
`;

const eastWest = proxyRef({
  type: 'router',
  ip: '127.1.0.20',
  name: 'istio-eastwestgateway-0',
  namespace: 'istio-system',
  labels: { istio: 'eastwestgateway' },
  metadata: { INTERCEPTION_MODE: 'NONE' },
});

const PLAIN = 'outbound_.9080_._.reviews.default.svc.cluster.local';
const V1 = 'outbound_.9080_.v1_.reviews.default.svc.cluster.local';

test('AUTO_PASSTHROUGH: an SNI-DNAT cluster per port and subset, no TLS origination, endpoints by that name', () => {
  const g = generatorFor(pushFromYaml(MESH, gatewayYaml('AUTO_PASSTHROUGH')));
  const clusters = new Map(
    g
      .generate(eastWest, TypeUrl.CLUSTER, [])
      .map((c) => [String(c.name), roundTrip(TypeUrl.CLUSTER, c) as any]),
  );
  for (const name of [PLAIN, V1]) {
    const c = clusters.get(name);
    assert.ok(c, `cluster ${name}`);
    assert.equal(c.type, 'EDS');
    assert.equal(c.edsClusterConfig.serviceName, name);
    assert.equal(c.transportSocket, undefined, 'the client TLS passes through');
    assert.equal(c.transportSocketMatches, undefined);
  }
  const ips = (name: string): string[] =>
    ((roundTrip(TypeUrl.ENDPOINT, g.generate(eastWest, TypeUrl.ENDPOINT, [name])[0]) as any).endpoints ?? [])
      .flatMap((l: any) => l.lbEndpoints)
      .map((e: any) => e.endpoint.address.socketAddress.address)
      .sort();
  assert.deepEqual(ips(PLAIN), ['127.1.0.4', '127.1.0.5']);
  assert.deepEqual(ips(V1), ['127.1.0.4']);

  const l = roundTrip(TypeUrl.LISTENER, g.generate(eastWest, TypeUrl.LISTENER, [])[0]) as any;
  assert.equal(l.address.socketAddress.portValue, 15443);
  assert.ok(l.listenerFilters.some((f: any) => f.name === 'envoy.filters.listener.tls_inspector'));
  const bySni = new Map<string, string>(
    l.filterChains.map((c: any) => [c.filterChainMatch.serverNames[0], c.filters.at(-1).typedConfig.cluster]),
  );
  assert.equal(bySni.get(PLAIN), PLAIN);
  assert.equal(bySni.get(V1), V1);
});

test('a PASSTHROUGH server gets no SNI-DNAT clusters', () => {
  const g = generatorFor(pushFromYaml(MESH, gatewayYaml('PASSTHROUGH')));
  const names = g.generate(eastWest, TypeUrl.CLUSTER, []).map((c) => String(c.name));
  assert.ok(!names.some((n) => n.startsWith('outbound_.')), names.join(' '));
});
