// Sidecar tcp and tls rules (REDIRECT mode): destinationSubnets as prefix ranges, sourceLabels and
// gateways select which proxies get a rule, weights, sniHosts on TLS ports (ServiceEntry egress) with the
// unknown-SNI chain following the outbound traffic policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';

const CONFIG = `apiVersion: v1
kind: Service
metadata: { name: db }
spec: { clusterIP: 10.96.0.20, selector: { app: db }, ports: [{ name: tcp, port: 5432 }] }
---
apiVersion: v1
kind: Service
metadata: { name: db-replica }
spec: { selector: { app: db-replica }, ports: [{ name: tcp, port: 5432 }] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external-tls }
spec:
  hosts: [api.example.com, www.example.org]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 443, name: tls, protocol: TLS }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db }
spec:
  hosts: [db]
  tcp:
    - match: [{ destinationSubnets: [10.96.0.20/32], sourceLabels: { app: reporting } }]
      route: [{ destination: { host: db-replica } }]
    - match: [{ port: 5432, gateways: [some-gateway] }]
      route: [{ destination: { host: db-replica } }]
    - route:
        - { destination: { host: db }, weight: 90 }
        - { destination: { host: db-replica }, weight: 10 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api }
spec:
  hosts: [api.example.com]
  tls:
    - match: [{ port: 443, sniHosts: [api.example.com] }]
      route: [{ destination: { host: www.example.org, port: { number: 443 } } }]
`;

function listener(labels: Record<string, string>, name: string, extra = ''): any {
  const g = generatorFor(pushFromYaml(CONFIG, ...(extra ? [extra] : [])));
  const p = proxyRef({ ip: '10.0.0.5', name: 'client-0', labels });
  const l = g.generate(p, TypeUrl.LISTENER, [name])[0];
  assert.ok(l, `listener ${name}`);
  return roundTrip(TypeUrl.LISTENER, l);
}

/** The chain's terminal filter (tcp_proxy; istio.stats and RBAC come before it). */
const proxyOf = (chain: any): any => chain.filters.at(-1).typedConfig;

test('tcp rules: destinationSubnets become prefix ranges, sourceLabels pick proxies, gateway-only matches are skipped', () => {
  const reporting = listener({ app: 'reporting' }, '10.96.0.20_5432');
  assert.equal(reporting.filterChains.length, 2);
  assert.deepEqual(reporting.filterChains[0].filterChainMatch.prefixRanges, [
    { addressPrefix: '10.96.0.20', prefixLen: { value: 32 } },
  ]);
  assert.equal(
    proxyOf(reporting.filterChains[0]).cluster,
    'outbound|5432||db-replica.default.svc.cluster.local',
  );
  assert.deepEqual(proxyOf(reporting.filterChains[1]).weightedClusters.clusters, [
    { name: 'outbound|5432||db.default.svc.cluster.local', weight: 90 },
    { name: 'outbound|5432||db-replica.default.svc.cluster.local', weight: 10 },
  ]);
  const other = listener({ app: 'web' }, '10.96.0.20_5432');
  assert.equal(other.filterChains.length, 1, 'the sourceLabels rule is not for this proxy');
  assert.ok(proxyOf(other.filterChains[0]).weightedClusters);
});

test('tls rules route by SNI on a shared 0.0.0.0_443 listener; other hosts keep their own chain; unknown SNI follows the policy', () => {
  const l = listener({ app: 'web' }, '0.0.0.0_443');
  assert.equal(l.listenerFilters[0].name, 'envoy.filters.listener.tls_inspector');
  const bySni = new Map<string, string>(
    l.filterChains.map((c: any) => [c.filterChainMatch?.serverNames?.join(',') ?? '*', proxyOf(c).cluster]),
  );
  assert.equal(bySni.get('api.example.com'), 'outbound|443||www.example.org');
  assert.equal(bySni.get('www.example.org'), 'outbound|443||www.example.org');
  assert.equal(bySni.get('*'), 'PassthroughCluster');
  const sidecar = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default }
spec: { outboundTrafficPolicy: { mode: REGISTRY_ONLY } }
`;
  const blocked = listener({ app: 'web' }, '0.0.0.0_443', sidecar);
  const last = blocked.filterChains.at(-1);
  assert.equal(last.filterChainMatch, undefined);
  assert.equal(proxyOf(last).cluster, 'BlackHoleCluster');
});

test("Telemetry reportingInterval reaches the TCP chains' istio.stats as tcp_reporting_duration", () => {
  const stats = (l: any): any =>
    l.filterChains[0].filters.find((f: any) => f.name === 'istio.stats').typedConfig.value;
  const field = (v: any, k: string): any => v.fields?.[k]?.stringValue;
  assert.equal(field(stats(listener({ app: 'x' }, '10.96.0.20_5432')), 'tcp_reporting_duration'), undefined);
  const telemetry = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  metrics:
  - reportingInterval: 1m
`;
  const l = listener({ app: 'x' }, '10.96.0.20_5432', telemetry);
  assert.equal(field(stats(l), 'tcp_reporting_duration'), '60s');
});

test("a DestinationRule's tcp.maxConnectionDuration caps each tcp_proxy connection, as istiod sets it", () => {
  const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db }
spec:
  host: db
  trafficPolicy: { connectionPool: { tcp: { maxConnectionDuration: 90s, idleTimeout: 20s } } }
`;
  const capped = listener(
    { app: 'web' },
    '10.96.0.20_5432',
    dr.replace('host: db', 'host: db.default.svc.cluster.local'),
  );
  const cfg = proxyOf(capped.filterChains[0]);
  assert.equal(cfg.weightedClusters.clusters[0].name, 'outbound|5432||db.default.svc.cluster.local');
  assert.deepEqual(cfg.maxDownstreamConnectionDuration, { seconds: 90 });
  assert.deepEqual(cfg.idleTimeout, { seconds: 20 });
  const plain = listener({ app: 'web' }, '10.96.0.20_5432');
  assert.equal(proxyOf(plain.filterChains[0]).maxDownstreamConnectionDuration, undefined);
});

test('destinationSubnets 0.0.0.0/0: the zero prefix length ({} in canonical form) compiles in the proxy and matches any address', async () => {
  const { ListenerConfig } = await import('../proxy/listener/listener-config.js');
  const { StatsStore } = await import('../proxy/stats/stats-store.js');
  const all = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db-all }
spec:
  hosts: [db-replica]
  tcp:
    - match: [{ destinationSubnets: [0.0.0.0/0] }]
      route: [{ destination: { host: db } }]
`;
  const l = listener({ app: 'web' }, '0.0.0.0_5432', all);
  assert.deepEqual(l.filterChains[0].filterChainMatch.prefixRanges, [
    { addressPrefix: '0.0.0.0', prefixLen: {} },
  ]);
  // The proxy refused this listener ("bad prefix length NaN") before it read prefix_len as a UInt32Value.
  const ctx = {
    store: new StatsStore(),
    source: { current: { version: 0, routeTable: () => undefined, cluster: () => undefined } },
    defaultAccessLogs: null,
  };
  const compiled = new ListenerConfig(l, ctx, null);
  const facts = {
    destinationPort: 5432,
    destinationIp: '192.168.1.7',
    serverName: '',
    transportProtocol: 'raw_buffer',
    applicationProtocols: [],
    sourceIp: '10.0.0.5',
    sourcePort: 40000,
  };
  assert.equal(compiled.select(facts), compiled.chains[0]);
});
