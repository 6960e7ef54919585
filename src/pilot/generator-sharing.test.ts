// Sidecars whose labels cannot change their outbound config share one generation (same objects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml } from './test-util.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1-0, labels: { app: reviews, version: v1 } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.4 }
`;

const a = proxyRef({
  ip: '127.1.0.10',
  name: 'a-0',
  labels: { app: 'a', version: 'v1' },
  metadata: { INTERCEPTION_MODE: 'NONE' },
});
const b = proxyRef({
  ip: '127.1.0.11',
  name: 'b-0',
  labels: { app: 'b', version: 'v1' },
  metadata: { INTERCEPTION_MODE: 'NONE' },
});

test('sidecars differing only in labels no rule reads share route configs, outbound clusters and endpoints', () => {
  const g = generatorFor(pushFromYaml(MESH));
  for (const [type, names] of [
    [TypeUrl.ROUTE, ['http_proxy']],
    [TypeUrl.ENDPOINT, ['outbound|9080||reviews.default.svc.cluster.local']],
  ] as const) {
    assert.equal(g.generate(a, type, [...names])[0], g.generate(b, type, [...names])[0], type);
  }
  const ca = g.generate(a, TypeUrl.CLUSTER, []).find((c) => String(c.name).startsWith('outbound|9080'));
  const cb = g.generate(b, TypeUrl.CLUSTER, []).find((c) => String(c.name).startsWith('outbound|9080'));
  assert.ok(ca);
  assert.equal(ca, cb);
});

test('a VirtualService with sourceLabels keeps sidecars with different values of that label apart', () => {
  const g = generatorFor(
    pushFromYaml(
      MESH,
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ sourceLabels: { app: a } }]
    fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
    route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: reviews } }]
`,
    ),
  );
  const ra = g.generate(a, TypeUrl.ROUTE, ['http_proxy'])[0];
  const rb = g.generate(b, TypeUrl.ROUTE, ['http_proxy'])[0];
  assert.notEqual(ra, rb);
  const aborts = (r: object): number => (JSON.stringify(r).match(/"httpStatus":418/g) ?? []).length;
  assert.equal(aborts(ra), 1, 'app=a gets the fault rule');
  assert.equal(aborts(rb), 0, 'app=b does not');
});

test('sidecars of one group asking with the same frozen name list get the same list object', () => {
  const g = generatorFor(pushFromYaml(MESH));
  const names = Object.freeze(['outbound|9080||reviews.default.svc.cluster.local']);
  const la = g.generate(a, TypeUrl.ENDPOINT, names);
  assert.equal(la, g.generate(b, TypeUrl.ENDPOINT, names), 'the xDS server then encodes it once');
  const fresh = g.generate(b, TypeUrl.ENDPOINT, [...names]);
  assert.notEqual(fresh, la, 'a list the caller may change is not remembered');
  assert.deepEqual(fresh, la);
});
