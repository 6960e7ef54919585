// Service registry: Kubernetes Services over Pods/WorkloadEntries/Endpoints/EndpointSlices, ServiceEntries, localities, DNS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { formatDiagnostic } from '../api/diagnostic.js';
import { buildSnapshot } from '../config/snapshot.js';
import { buildRegistry } from './registry.js';
import { servicePortProtocol } from './protocol.js';
import { resolveHost } from './host.js';
import { DnsCache } from './dns.js';

function registryOf(yaml: string): ReturnType<typeof buildRegistry> {
  const r = loadText(yaml, 'r.yaml');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, errors.map(formatDiagnostic).join('\n'));
  return buildRegistry(buildSnapshot(1, r.resources));
}

test('protocol from appProtocol, then the port name prefix, as Istio', () => {
  const cases: [string | undefined, string | undefined, string][] = [
    ['http', undefined, 'HTTP'],
    ['http-web', undefined, 'HTTP'],
    ['http2-x', undefined, 'HTTP2'],
    ['grpc', undefined, 'GRPC'],
    ['grpc-web', undefined, 'GRPC-WEB'],
    ['tcp-echo', undefined, 'TCP'],
    ['tls', undefined, 'TLS'],
    ['mongo', undefined, 'MONGO'],
    ['web', undefined, 'UNSUPPORTED'],
    [undefined, undefined, 'UNSUPPORTED'],
    ['tcp', 'http', 'HTTP'],
    ['web', 'kubernetes.io/h2c', 'HTTP2'],
  ];
  for (const [name, app, want] of cases) assert.equal(servicePortProtocol(name, app), want, `${name} ${app}`);
});

test('short names resolve in the namespace of the resource that names them', () => {
  assert.equal(resolveHost('reviews', 'prod'), 'reviews.prod.svc.cluster.local');
  assert.equal(resolveHost('reviews.test', 'prod'), 'reviews.test.svc.cluster.local');
  assert.equal(resolveHost('reviews.test.svc', 'prod'), 'reviews.test.svc.cluster.local');
  assert.equal(resolveHost('api.example.com', 'prod'), 'api.example.com');
  assert.equal(resolveHost('*.example.com', 'prod'), '*.example.com');
});

test('a Service selects Pods and WorkloadEntries in its namespace; named target ports; readiness; locality labels', () => {
  const reg = registryOf(`apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop, annotations: { networking.istio.io/exportTo: "." } }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http-web }, { name: tcp-admin, port: 9000 }]
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, namespace: shop, labels: { app: web, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-1 } }
spec: { containers: [{ name: web, ports: [{ name: http-web, containerPort: 8080 }] }] }
status: { podIP: 127.1.0.2 }
---
apiVersion: v1
kind: Pod
metadata: { name: web-1, namespace: shop, labels: { app: web } }
spec: { containers: [{ name: web, ports: [{ name: http-web, containerPort: 8081 }] }] }
status: { podIP: 127.1.0.3, conditions: [{ type: Ready, status: "False" }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-other-ns, namespace: default, labels: { app: web } }
spec: { containers: [{ name: web }] }
status: { podIP: 127.1.0.9 }
---
apiVersion: v1
kind: Pod
metadata: { name: web-no-ip, namespace: shop, labels: { app: web } }
spec: { containers: [{ name: web }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: vm-1, namespace: shop }
spec: { address: 10.0.0.5, labels: { app: web }, ports: { http: 7000 }, locality: us/us-1/a, weight: 3 }
`);
  const svc = reg.service('web.shop.svc.cluster.local')!;
  assert.ok(svc);
  assert.deepEqual(
    svc.ports.map((p) => [p.port, p.protocol]),
    [
      [80, 'HTTP'],
      [9000, 'TCP'],
    ],
  );
  assert.deepEqual([...svc.exportTo], ['shop']);
  const eps = reg.endpoints(svc, 80);
  assert.deepEqual(
    eps.map((e) => [e.address, e.port, e.healthy, e.locality.region, e.locality.zone, e.weight]),
    [
      ['127.1.0.2', 8080, true, 'eu', 'eu-1', 1],
      ['127.1.0.3', 8081, false, '', '', 1],
      ['10.0.0.5', 7000, true, 'us', 'us-1', 3],
    ],
  );
  // A port without targetPort uses the port number; a named targetPort the WorkloadEntry lacks falls back to it.
  assert.deepEqual(
    reg.endpoints(svc, 9000).map((e) => [e.address, e.port]),
    [
      ['127.1.0.2', 9000],
      ['127.1.0.3', 9000],
      ['10.0.0.5', 9000],
    ],
  );
  assert.deepEqual(
    reg.inboundPorts('127.1.0.2', 'shop', 'web-0').map((p) => [p.servicePort.port, p.targetPort]),
    [
      [80, 8080],
      [9000, 9000],
    ],
  );
  // Read through the index by address: each workload gets its own ports, asked again the same answer.
  assert.deepEqual(
    reg.inboundPorts('127.1.0.3', 'shop').map((p) => [p.servicePort.port, p.targetPort]),
    [
      [80, 8081],
      [9000, 9000],
    ],
  );
  assert.equal(
    reg.inboundPorts('127.1.0.2', 'shop', 'web-0'),
    reg.inboundPorts('127.1.0.2', 'shop', 'web-0'),
  );
  assert.deepEqual(
    reg.inboundPorts('127.1.0.2', 'other'),
    [],
    'a Service of another namespace is not served',
  );
  assert.deepEqual(reg.inboundPorts('127.9.9.9', 'shop'), []);
});

test('services without a selector take Endpoints or EndpointSlices', () => {
  const reg = registryOf(`apiVersion: v1
kind: Service
metadata: { name: legacy }
spec: { ports: [{ name: http, port: 8080 }] }
---
apiVersion: v1
kind: Endpoints
metadata: { name: legacy }
subsets:
  - addresses: [{ ip: 10.1.0.1 }]
    notReadyAddresses: [{ ip: 10.1.0.2 }]
    ports: [{ name: http, port: 18080 }]
---
apiVersion: v1
kind: Service
metadata: { name: sliced }
spec: { ports: [{ name: grpc, port: 7070 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: sliced-abc, labels: { kubernetes.io/service-name: sliced } }
addressType: IPv4
endpoints:
  - { addresses: [10.2.0.1], zone: z1 }
  - { addresses: [10.2.0.2], conditions: { ready: false } }
ports: [{ name: grpc, port: 17070 }]
`);
  const legacy = reg.service('legacy.default.svc.cluster.local')!;
  assert.deepEqual(
    reg.endpoints(legacy, 8080).map((e) => [e.address, e.port, e.healthy]),
    [
      ['10.1.0.1', 18080, true],
      ['10.1.0.2', 18080, false],
    ],
  );
  const sliced = reg.service('sliced.default.svc.cluster.local')!;
  assert.equal(sliced.ports[0].protocol, 'GRPC');
  assert.deepEqual(
    reg.endpoints(sliced, 7070).map((e) => [e.address, e.port, e.healthy, e.locality.zone]),
    [
      ['10.2.0.1', 17070, true, 'z1'],
      ['10.2.0.2', 17070, false, ''],
    ],
  );
});

test('ServiceEntry: hosts, ports, resolution, location, inline endpoints, workloadSelector', () => {
  const reg = registryOf(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external }
spec:
  hosts: [api.example.com]
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: static }
spec:
  hosts: [db.internal]
  location: MESH_INTERNAL
  ports: [{ number: 5432, name: tcp, protocol: TCP, targetPort: 15432 }]
  resolution: STATIC
  endpoints:
    - { address: 10.3.0.1, locality: r1/z1 }
    - { address: 10.3.0.2, ports: { tcp: 25432 }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: selected }
spec:
  hosts: [vm.internal]
  location: MESH_INTERNAL
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  workloadSelector: { labels: { app: vm } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: vm-a }
spec: { address: 10.4.0.1, labels: { app: vm } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: wildcard }
spec:
  hosts: ["*.wikipedia.org"]
  ports: [{ number: 443, name: tls, protocol: TLS }]
`);
  const ext = reg.service('api.example.com')!;
  assert.equal(ext.resolution, 'DNS');
  assert.equal(ext.location, 'MESH_EXTERNAL');
  assert.deepEqual(
    reg.endpoints(ext, 443).map((e) => [e.address, e.port]),
    [['api.example.com', 443]],
  );
  const st = reg.service('db.internal')!;
  assert.equal(st.location, 'MESH_INTERNAL');
  assert.deepEqual(
    reg.endpoints(st, 5432).map((e) => [e.address, e.port, e.locality.region, e.labels.version]),
    [
      ['10.3.0.1', 15432, 'r1', undefined],
      ['10.3.0.2', 25432, '', 'v2'],
    ],
  );
  assert.deepEqual(
    reg.endpoints(reg.service('vm.internal')!, 80).map((e) => e.address),
    ['10.4.0.1'],
  );
  const wild = reg.service('*.wikipedia.org')!;
  assert.equal(wild.resolution, 'NONE');
  assert.deepEqual(reg.endpoints(wild, 443), []);
});

test('WorkloadGroup templates fill the WorkloadEntries registered from them', () => {
  const reg = registryOf(`apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: ratings-vm }
spec:
  metadata: { labels: { app: ratings } }
  template: { serviceAccount: ratings-sa, ports: { http: 9080 }, labels: { version: vm } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ratings-vm-10.5.0.1, annotations: { istio.io/autoRegistrationGroup: ratings-vm } }
spec: { address: 10.5.0.1 }
---
apiVersion: v1
kind: Service
metadata: { name: ratings }
spec: { selector: { app: ratings }, ports: [{ name: http, port: 80 }] }
`);
  const eps = reg.endpoints(reg.service('ratings.default.svc.cluster.local')!, 80);
  assert.deepEqual(
    eps.map((e) => [e.address, e.port, e.serviceAccount, e.labels.version]),
    [['10.5.0.1', 9080, 'ratings-sa', 'vm']],
  );
});

test('DnsCache resolves names with node:dns and reports changes', async () => {
  const changed: string[] = [];
  const dns = new DnsCache({ onChange: (h) => changed.push(h) });
  try {
    dns.want(['localhost', '10.0.0.1', '*.example.com']);
    await dns.settle();
    assert.ok(dns.addresses('localhost')?.some((a) => a === '127.0.0.1' || a === '::1'));
    assert.deepEqual(dns.addresses('10.0.0.1'), ['10.0.0.1']);
    assert.equal(dns.addresses('*.example.com'), undefined);
    assert.deepEqual(changed, ['localhost']);
    dns.want([]);
    assert.equal(dns.addresses('localhost'), undefined);
  } finally {
    dns.close();
  }
});
