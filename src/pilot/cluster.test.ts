// Clusters and endpoints: DestinationRule policy merged host < subset < port level, Istio defaults,
// TLS origination, DNS and passthrough services, subset endpoints and locality priorities/weights.
import { structToJson } from '../xds/struct.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import type { CanonicalObject } from '../xds/protos.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip, simulate } from './test-util.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }, { name: grpc-admin, port: 9090 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1-0, labels: { app: reviews, version: v1, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-1 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.4 }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v2-0, labels: { app: reviews, version: v2, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-2 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.5 }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v2-1, labels: { app: reviews, version: v2, topology.kubernetes.io/region: us, topology.kubernetes.io/zone: us-1 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.6 }
`;

const HOST = 'reviews.default.svc.cluster.local';
const client = proxyRef({
  ip: '127.1.0.9',
  name: 'client-0',
  metadata: { INTERCEPTION_MODE: 'NONE' },
});

function clusters(...yaml: string[]): Map<string, CanonicalObject> {
  const g = generatorFor(pushFromYaml(SERVICE, ...yaml));
  return new Map(
    g.generate(client, TypeUrl.CLUSTER, []).map((c) => [String(c.name), roundTrip(TypeUrl.CLUSTER, c)]),
  );
}

test('MeshConfig connectTimeout is the default for clusters; a DestinationRule connectTimeout still wins', () => {
  const meshCm = `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    connectTimeout: 2.5s
`;
  const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: reviews
  trafficPolicy: { connectionPool: { tcp: { connectTimeout: 250ms } } }
`;
  const viaMesh = clusters(meshCm).get(`outbound|9080||${HOST}`)!;
  assert.deepEqual(viaMesh.connectTimeout, { seconds: 2, nanos: 500000000 });
  const viaDr = clusters(meshCm, dr).get(`outbound|9080||${HOST}`)!;
  assert.deepEqual(viaDr.connectTimeout, { nanos: 250000000 });
});

test('defaults: EDS over ADS, LEAST_REQUEST, 10 s connect timeout, circuit breakers at 2^32-1, HTTP/2 for grpc ports', () => {
  const cs = clusters();
  const c = cs.get(`outbound|9080||${HOST}`)!;
  assert.equal(c.type, 'EDS');
  assert.deepEqual(c.edsClusterConfig, {
    edsConfig: { ads: {}, resourceApiVersion: 'V3' },
    serviceName: `outbound|9080||${HOST}`,
  });
  assert.equal(c.lbPolicy, 'LEAST_REQUEST');
  assert.deepEqual(c.connectTimeout, { seconds: 10 });
  const t = (c.circuitBreakers as any).thresholds[0];
  for (const k of ['maxConnections', 'maxPendingRequests', 'maxRequests', 'maxRetries'])
    assert.equal(t[k].value, 4294967295, k);
  assert.equal(c.outlierDetection, undefined);
  const opts = (c.typedExtensionProtocolOptions as any)[
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
  ];
  assert.deepEqual(opts.commonHttpProtocolOptions.idleTimeout, { seconds: 3600 });
  assert.ok(opts.explicitHttpConfig.httpProtocolOptions);
  const grpc = (cs.get(`outbound|9090||${HOST}`)!.typedExtensionProtocolOptions as any)[
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
  ];
  assert.ok(grpc.explicitHttpConfig.http2ProtocolOptions);
  assert.equal(cs.get('BlackHoleCluster')!.type, 'STATIC');
  assert.equal(cs.get('PassthroughCluster')!.type, 'ORIGINAL_DST');
});

test('DestinationRule policy: subset overrides host level, port level replaces the level above', () => {
  const cs = clusters(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    connectionPool:
      tcp: { maxConnections: 100, connectTimeout: 250ms }
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 50, maxRetries: 3, idleTimeout: 30s }
    outlierDetection: { consecutive5xxErrors: 7 }
    portLevelSettings:
      - port: { number: 9090 }
        loadBalancer: { simple: RANDOM }
  subsets:
    - name: v1
      labels: { version: v1 }
    - name: v2
      labels: { version: v2 }
      trafficPolicy:
        loadBalancer: { consistentHash: { httpHeaderName: x-user } }
        outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 2s, maxEjectionPercent: 100 }
`);
  const host = cs.get(`outbound|9080||${HOST}`)!;
  assert.equal(host.lbPolicy, undefined, 'ROUND_ROBIN is the proto default, left out in canonical form');
  assert.deepEqual(host.connectTimeout, { nanos: 250000000 });
  const t = (host.circuitBreakers as any).thresholds[0];
  assert.deepEqual(
    [t.maxConnections.value, t.maxPendingRequests.value, t.maxRequests.value, t.maxRetries.value],
    [100, 10, 50, 3],
  );
  assert.deepEqual(host.outlierDetection, {
    consecutive_5xx: { value: 7 },
    enforcingConsecutive_5xx: { value: 100 },
    interval: { seconds: 10 },
    baseEjectionTime: { seconds: 30 },
    maxEjectionPercent: { value: 10 },
    enforcingSuccessRate: { value: 0 },
  });
  assert.equal(cs.get(`outbound|9090||${HOST}`)!.lbPolicy, 'RANDOM');
  assert.equal(cs.get(`outbound|9080|v1|${HOST}`)!.lbPolicy, undefined, 'v1 inherits host level');
  const v2 = cs.get(`outbound|9080|v2|${HOST}`)!;
  assert.equal(v2.lbPolicy, 'RING_HASH');
  assert.deepEqual((v2.outlierDetection as any).interval, { seconds: 1 });
  assert.equal((v2.outlierDetection as any).maxEjectionPercent.value, 100);
  // v2 keeps the host-level connection pool (fields not set on the subset).
  assert.equal((v2.circuitBreakers as any).thresholds[0].maxConnections.value, 100);
  // The ring hash key is a route hash policy.
  const g = generatorFor(
    pushFromYaml(
      SERVICE,
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: user, ttl: 60s } } } }
`,
    ),
  );
  const rc = roundTrip(TypeUrl.ROUTE, g.generate(client, TypeUrl.ROUTE, ['http_proxy'])[0]);
  const pick = simulate(rc, { host: 'reviews:9080', path: '/' })!;
  assert.deepEqual((pick.route.route as any).hashPolicy, [
    { cookie: { name: 'user', ttl: { seconds: 60 } } },
  ]);
});

test('TLS origination, DNS and passthrough ServiceEntries', () => {
  const cs = clusters(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api }
spec:
  hosts: [api.example.com]
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api }
spec:
  host: api.example.com
  trafficPolicy:
    tls: { mode: MUTUAL, clientCertificate: /certs/client.pem, privateKey: /certs/key.pem, caCertificates: /certs/ca.pem, subjectAltNames: [api.example.com] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: anything }
spec:
  hosts: ["*.example.org"]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: NONE
`);
  const api = cs.get('outbound|443||api.example.com')!;
  assert.equal(api.type, 'STRICT_DNS');
  // The DestinationRule that shaped the cluster is named in its metadata, as Istio does (proxy-config shows it).
  assert.equal(
    structToJson((api.metadata as any).filterMetadata.istio).config,
    '/apis/networking.istio.io/v1/namespaces/default/destination-rule/api',
  );
  assert.deepEqual((api.loadAssignment as any).endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, {
    address: 'api.example.com',
    portValue: 443,
  });
  const tls = (api.transportSocket as any).typedConfig;
  assert.equal(
    tls['@type'],
    'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  );
  assert.equal(tls.sni, 'api.example.com');
  assert.deepEqual(tls.commonTlsContext.tlsCertificates, [
    { certificateChain: { filename: '/certs/client.pem' }, privateKey: { filename: '/certs/key.pem' } },
  ]);
  assert.deepEqual(tls.commonTlsContext.validationContext, {
    trustedCa: { filename: '/certs/ca.pem' },
    matchSubjectAltNames: [{ exact: 'api.example.com' }],
  });
  const any = cs.get('outbound|80||*.example.org')!;
  assert.equal(any.type, 'ORIGINAL_DST');
  assert.equal(any.lbPolicy, 'CLUSTER_PROVIDED');
});

test('endpoints: subset labels filter; locality groups; failover priorities (locality and failoverPriority labels) need outlier detection; distribute weights', () => {
  const proxy = { ...client, node: { ...client.node, locality: { region: 'eu', zone: 'eu-1' } } };
  const eds = (dr: string, name: string): any => {
    const g = generatorFor(pushFromYaml(SERVICE, dr));
    return roundTrip(TypeUrl.ENDPOINT, g.generate(proxy, TypeUrl.ENDPOINT, [name])[0]);
  };
  const base = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v2, labels: { version: v2 } }]
`;
  const v2 = eds(base, `outbound|9080|v2|${HOST}`);
  const groups = v2.endpoints.map((e: any) => [
    e.locality,
    e.lbEndpoints.map((l: any) => l.endpoint.address.socketAddress.address),
    e.priority,
  ]);
  assert.deepEqual(groups, [
    [{ region: 'eu', zone: 'eu-2' }, ['127.1.0.5'], undefined],
    [{ region: 'us', zone: 'us-1' }, ['127.1.0.6'], undefined],
  ]);
  assert.deepEqual(eds(base, `outbound|9080|v9|${HOST}`), { clusterName: `outbound|9080|v9|${HOST}` });

  const failover = eds(
    base.replace(
      '  subsets:',
      '  trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3 } }\n  subsets:',
    ),
    `outbound|9080||${HOST}`,
  );
  assert.deepEqual(
    failover.endpoints.map((e: any) => [e.locality.zone, e.priority ?? 0]),
    [
      ['eu-1', 0],
      ['eu-2', 1], // same region, other zone: 2 before compaction
      ['us-1', 2], // other region: 3 before compaction
    ],
  );
  // failoverPriority: ordered labels; priority = labels left after the longest agreeing prefix.
  const byLabels = eds(
    base.replace(
      '  subsets:',
      `  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 3 }
    loadBalancer:
      localityLbSetting:
        failoverPriority: ["version=v2", "topology.kubernetes.io/region"]
  subsets:`,
    ),
    `outbound|9080||${HOST}`,
  );
  assert.deepEqual(
    byLabels.endpoints.map((e: any) => [
      e.lbEndpoints[0].endpoint.address.socketAddress.address,
      e.priority ?? 0,
    ]),
    [
      ['127.1.0.4', 2], // version v1: first label disagrees
      ['127.1.0.5', 0], // v2 in the client's region eu
      ['127.1.0.6', 1], // v2 in us
    ],
  );
  // failoverPriority with failover targets: label priority × 5 + locality priority, then compacted.
  const combined = eds(
    base.replace(
      '  subsets:',
      `  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 3 }
    loadBalancer:
      localityLbSetting:
        failoverPriority: ["version=v2"]
        failover: [{ from: eu, to: us }]
  subsets:`,
    ),
    `outbound|9080||${HOST}`,
  );
  assert.deepEqual(
    combined.endpoints.map((e: any) => [
      e.lbEndpoints[0].endpoint.address.socketAddress.address,
      e.priority ?? 0,
    ]),
    [
      ['127.1.0.4', 2], // v1 (1 × 5) in the client's zone (+0): 5
      ['127.1.0.5', 0], // v2 (0 × 5), same region, other zone (+2): 2
      ['127.1.0.6', 1], // v2 (0 × 5) in the failover region us (+3): 3
    ],
  );
  const distribute = eds(
    base.replace(
      '  subsets:',
      `  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 3 }
    loadBalancer:
      localityLbSetting:
        distribute: [{ from: "eu/eu-1/*", to: { "eu/eu-1/*": 80, "us/*": 20 } }]
  subsets:`,
    ),
    `outbound|9080||${HOST}`,
  );
  assert.deepEqual(
    distribute.endpoints.map((e: any) => [e.locality.zone, e.loadBalancingWeight.value, e.priority]),
    [
      ['eu-1', 80000, undefined], // distribute weights, no failover priorities (Istio applies one or the other)
      ['us-1', 20000, undefined],
    ],
  );
});
