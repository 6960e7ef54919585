// Scoping: exportTo, Sidecar egress hosts, outbound traffic policy (ALLOW_ANY / REGISTRY_ONLY), REDIRECT-mode listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip, simulate } from './test-util.js';

const svc = (name: string, ns: string, extra = ''): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns}${extra} }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 80 }, { name: tcp-db, port: 5432 }] }
`;

const MESH = [
  svc('a', 'team1'),
  svc('b', 'team2'),
  svc('private', 'team2', ', annotations: { networking.istio.io/exportTo: "." }'),
  `apiVersion: v1
kind: Pod
metadata: { name: a-0, namespace: team1, labels: { app: a } }
spec: { containers: [{ name: a }] }
status: { podIP: 10.0.1.1 }
`,
];

const proxyA = proxyRef({ ip: '10.0.1.1', name: 'a-0', namespace: 'team1', labels: { app: 'a' } });

test('exportTo hides services from other namespaces; visible ones get outbound listeners and clusters', () => {
  const g = generatorFor(pushFromYaml(MESH.join('---\n')));
  const clusters = g.generate(proxyA, TypeUrl.CLUSTER, []).map((c) => c.name);
  assert.ok(clusters.includes('outbound|80||b.team2.svc.cluster.local'));
  assert.ok(!clusters.some((c) => String(c).includes('private')));
  const listeners = g.generate(proxyA, TypeUrl.LISTENER, []);
  assert.deepEqual(
    listeners.map((l) => l.name),
    ['virtualOutbound', 'virtualInbound', '0.0.0.0_80', '0.0.0.0_5432'],
  );
  const inbound = listeners.find((l) => l.name === 'virtualInbound')!;
  assert.deepEqual(
    (inbound.filterChains as any[]).map((c) => c.filterChainMatch?.destinationPort?.value ?? 'catch-all'),
    // PERMISSIVE (no PeerAuthentication): an Istio mTLS chain and a plaintext chain per port, and
    // for the inbound passthrough (ports no service declares).
    [80, 80, 5432, 5432, 'catch-all', 'catch-all'],
  );
  assert.deepEqual(
    (inbound.filterChains as any[]).map((c) => c.filterChainMatch?.transportProtocol ?? ''),
    ['tls', '', 'tls', '', 'tls', ''],
  );
  const tcp = listeners.find((l) => l.name === '0.0.0.0_5432')!;
  assert.equal((tcp.filterChains as any)[0].filters.at(-1).name, 'envoy.filters.network.tcp_proxy');
  for (const l of listeners) roundTrip(TypeUrl.LISTENER, l);
  // Short names only resolve in the caller's own namespace; other namespaces need name.namespace.
  const rc = roundTrip(TypeUrl.ROUTE, g.generate(proxyA, TypeUrl.ROUTE, ['80'])[0]);
  assert.equal(simulate(rc, { host: 'a', path: '/' })?.cluster, 'outbound|80||a.team1.svc.cluster.local');
  assert.equal(
    simulate(rc, { host: 'b.team2', path: '/' })?.cluster,
    'outbound|80||b.team2.svc.cluster.local',
  );
  assert.equal(simulate(rc, { host: 'b', path: '/' })?.cluster, 'PassthroughCluster');
});

test('Sidecar egress hosts restrict what a workload sees; REGISTRY_ONLY blocks unknown hosts', () => {
  const sidecar = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: team1 }
spec:
  egress: [{ hosts: ["./*"] }]
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`;
  const g = generatorFor(pushFromYaml(MESH.join('---\n'), sidecar));
  const clusters = g.generate(proxyA, TypeUrl.CLUSTER, []).map((c) => String(c.name));
  assert.ok(clusters.includes('outbound|80||a.team1.svc.cluster.local'));
  assert.ok(!clusters.some((c) => c.includes('team2')), clusters.join(' '));
  const rc = roundTrip(TypeUrl.ROUTE, g.generate(proxyA, TypeUrl.ROUTE, ['80'])[0]);
  assert.deepEqual(simulate(rc, { host: 'example.com', path: '/' })?.directResponse, { status: 502 });
  const vo = g.generate(proxyA, TypeUrl.LISTENER, ['virtualOutbound'])[0];
  assert.equal((vo.filterChains as any)[0].filters.at(-1).typedConfig.cluster, 'BlackHoleCluster');
});

test('mesh-wide REGISTRY_ONLY from the istio ConfigMap', () => {
  const cm = `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
`;
  const g = generatorFor(pushFromYaml(MESH.join('---\n'), cm));
  const rc = roundTrip(TypeUrl.ROUTE, g.generate(proxyA, TypeUrl.ROUTE, ['80'])[0]);
  assert.equal(simulate(rc, { host: 'unknown.com', path: '/' })?.virtualHost, 'block_all');
});
