// Where pilot puts Istio's TCP metadata exchange, as istiod does: first on inbound TCP chains, on every
// outbound cluster, on ISTIO_MUTUAL gateway TCP servers; istio-peer-exchange accepted by TCP mTLS chains
// only. Every resource goes through a proto round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { structToJson } from '../xds/struct.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: foo }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000, targetPort: 80 }, { name: tcp, port: 9000 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: httpbin-0, namespace: foo, labels: { app: httpbin, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: httpbin, containers: [{ name: httpbin, ports: [{ containerPort: 80 }] }] }
status: { phase: Running, podIP: 10.0.0.1 }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mesh-gw, namespace: foo }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 15443, name: tls, protocol: TLS }
      hosts: ["*"]
      tls: { mode: ISTIO_MUTUAL }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp, namespace: foo }
spec:
  hosts: ["*"]
  gateways: [mesh-gw]
  tcp: [{ route: [{ destination: { host: httpbin.foo.svc.cluster.local, port: { number: 9000 } } }] }]
`;

const httpbin = proxyRef({ ip: '10.0.0.1', name: 'httpbin-0', namespace: 'foo', labels: { app: 'httpbin' } });
const gw = proxyRef({
  type: 'router',
  ip: '127.0.0.1',
  name: 'gw-0',
  namespace: 'foo',
  labels: { istio: 'ingressgateway' },
  metadata: { INTERCEPTION_MODE: 'NONE', MIZZEN_GATEWAY_PORT_OFFSET: '0' },
});

/** The filter as Istio's TCPListenerMx / TCPClusterMx (without enable_discovery: no WDS here). */
function assertMx(f: any): void {
  assert.equal(f.name, 'istio.metadata_exchange');
  assert.equal(f.typedConfig['@type'], 'type.googleapis.com/udpa.type.v1.TypedStruct');
  assert.equal(
    f.typedConfig.typeUrl,
    'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange',
  );
  assert.deepEqual(structToJson(f.typedConfig.value), { protocol: 'istio-peer-exchange' });
}

const alpnOf = (chain: any): string[] => chain.transportSocket.typedConfig.commonTlsContext.alpnProtocols;

test('inbound: the exchange first on TCP chains (mTLS and plaintext); ALPN istio-peer-exchange on TCP mTLS chains only', () => {
  const g = generatorFor(pushFromYaml(MESH));
  const l = roundTrip(
    TypeUrl.LISTENER,
    g.generate(httpbin, TypeUrl.LISTENER, []).find((x) => x.name === 'virtualInbound')!,
  ) as any;
  const byPort = (port: number): any[] =>
    l.filterChains.filter((c: any) => c.filterChainMatch?.destinationPort?.value === port);
  const tcp = byPort(9000);
  assert.equal(tcp.length, 2, 'PERMISSIVE: an mTLS and a plaintext chain');
  for (const c of tcp) assertMx(c.filters[0]);
  assert.equal(tcp[0].filters.at(-1).name, 'envoy.filters.network.tcp_proxy');
  assert.deepEqual(alpnOf(tcp.find((c) => c.transportSocket)), ['istio-peer-exchange', 'h2', 'http/1.1']);
  const http = byPort(80);
  for (const c of http) assert.ok(!c.filters.some((f: any) => f.name === 'istio.metadata_exchange'));
  assert.deepEqual(alpnOf(http.find((c) => c.transportSocket)), ['h2', 'http/1.1']);
  const catchAll = l.filterChains.filter((c: any) => String(c.name).startsWith('virtualInbound-catchall'));
  assert.ok(catchAll.length > 0);
  for (const c of catchAll) assertMx(c.filters[0]);
});

test('outbound: every cluster carries the exchange; in-mesh TLS offers istio-peer-exchange', () => {
  const g = generatorFor(pushFromYaml(MESH));
  const clusters = g.generate(httpbin, TypeUrl.CLUSTER, []).map((c) => roundTrip(TypeUrl.CLUSTER, c) as any);
  const tcp = clusters.find((c) => c.name === 'outbound|9000||httpbin.foo.svc.cluster.local');
  assert.equal(tcp.filters.length, 1);
  assertMx(tcp.filters[0]);
  assertMx(clusters.find((c) => c.name === 'PassthroughCluster').filters[0]);
  const tls = tcp.transportSocketMatches.find((m: any) => m.name === 'tlsMode-istio');
  assert.deepEqual(tls.transportSocket.typedConfig.commonTlsContext.alpnProtocols, [
    'istio-peer-exchange',
    'istio',
  ]);
});

test('an ISTIO_MUTUAL gateway TCP server exchanges metadata (Istio: includeMx, ALPNDownstreamWithMxc)', () => {
  const g = generatorFor(pushFromYaml(MESH));
  const l = g.generate(gw, TypeUrl.LISTENER, []).find((x) => x.name === '0.0.0.0_15443');
  assert.ok(l, 'the server has a listener');
  const chain = (roundTrip(TypeUrl.LISTENER, l) as any).filterChains[0];
  assertMx(chain.filters[0]);
  assert.deepEqual(alpnOf(chain), ['istio-peer-exchange', 'h2', 'http/1.1']);
});
