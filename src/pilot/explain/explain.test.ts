// Route explainer simulation tests: bookinfo's request-routing and fault tasks, explained from the config
// the control plane generates for the productpage sidecar (local mode) and the ingress gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatorFor, proxyRef, pushFromYaml } from '../test-util.js';
import { explain, type ExplainRequest } from './explain.js';
import { formatExplanation } from './format.js';

const EXAMPLES = join(process.cwd(), 'examples', 'bookinfo');
const read = (f: string): string => readFileSync(join(EXAMPLES, f), 'utf8');
const PODS = [
  ['reviews-v1-0', 'reviews', 'v1', '127.1.0.4'],
  ['reviews-v2-0', 'reviews', 'v2', '127.1.0.5'],
  ['ratings-v1-0', 'ratings', 'v1', '127.1.0.3'],
  ['productpage-v1-0', 'productpage', 'v1', '127.1.0.7'],
]
  .map(
    ([name, app, version, ip]) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: ${app}, version: ${version} } }
spec: { serviceAccountName: bookinfo-${app}, containers: [{ name: ${app}, ports: [{ containerPort: 9080 }] }] }
status: { podIP: ${ip}, conditions: [{ type: Ready, status: "True" }] }
`,
  )
  .join('---\n');
const BASE = [read('bookinfo.yaml'), PODS, read('networking/destination-rule-all.yaml')];
const productpage = proxyRef({
  ip: '127.1.0.7',
  name: 'productpage-v1-0',
  labels: { app: 'productpage', version: 'v1' },
  metadata: { INTERCEPTION_MODE: 'NONE', MIZZEN_APP_HOST: '127.2.0.7' },
});
const req = (headers: Record<string, string> = {}): ExplainRequest => ({
  method: 'GET',
  host: 'reviews:9080',
  path: '/reviews/0',
  headers,
});

test('request routing: end-user jason → reviews v2 by the first rule, with its file:line', () => {
  const push = pushFromYaml(...BASE, read('networking/virtual-service-reviews-test-v2.yaml'));
  const e = explain(generatorFor(push), push, productpage, req({ 'end-user': 'jason' }));
  assert.equal(e.error, undefined);
  assert.equal(e.listener?.routeConfig, 'http_proxy');
  assert.equal(e.virtualHost?.name, 'reviews.default.svc.cluster.local:9080');
  assert.equal(e.tried.length, 1, 'the first route matched');
  const src = e.route?.source;
  assert.equal(src?.resource, 'VirtualService default/reviews');
  assert.equal(src?.file, 'test-3.yaml');
  assert.deepEqual([src?.http, src?.match, src?.line], [0, 0, 11], 'spec.http[0].match[0] at line 11');
  assert.equal(e.route?.clusters[0].name, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(e.route?.clusters[0].subset, 'v2');
  assert.equal(
    e.route?.clusters[0].tls,
    'ISTIO_MUTUAL (auto mTLS)',
    'the transport socket match of auto mTLS',
  );
  assert.deepEqual(
    e.route?.clusters[0].endpoints.map((x) => x.address),
    ['127.1.0.5:9080'],
    'only the v2 pod',
  );
  assert.equal(e.route?.retries?.numRetries, 2);
  assert.match(formatExplanation(e), /test-3\.yaml:11/);
});

test('request routing: another user falls through to v1 and the first rule says why', () => {
  const push = pushFromYaml(...BASE, read('networking/virtual-service-reviews-test-v2.yaml'));
  const e = explain(generatorFor(push), push, productpage, req({ 'end-user': 'mike' }));
  assert.equal(e.tried.length, 2);
  assert.equal(e.tried[0].matched, false);
  assert.equal(e.tried[0].why, 'header end-user is "mike"; the route wants exact "jason"');
  assert.equal(e.route?.source?.line, 18, 'the second rule (spec.http[1]) at line 18');
  assert.equal(e.route?.clusters[0].subset, 'v1');
  const noUser = explain(generatorFor(push), push, productpage, req());
  assert.equal(noUser.tried[0].why, 'header end-user is absent; the route wants exact "jason"');
});

test('fault injection and traffic shifting: the fault and the weights of the matched route', () => {
  const push = pushFromYaml(
    ...BASE,
    read('networking/virtual-service-ratings-test-abort.yaml'),
    read('networking/virtual-service-reviews-50-v3.yaml'),
  );
  const g = generatorFor(push);
  const ratings = explain(g, push, productpage, {
    ...req({ 'end-user': 'jason' }),
    host: 'ratings:9080',
    path: '/ratings/0',
  });
  assert.match(ratings.route?.fault?.abort ?? '', /^HTTP 500 for 100% of requests$/);
  const reviews = explain(g, push, productpage, req());
  assert.deepEqual(
    reviews.route?.clusters.map((c) => [c.subset, c.percent]),
    [
      ['v1', 50],
      ['v3', 50],
    ],
  );
});

test('unknown hosts pass through (ALLOW_ANY); the gateway answers 404 NR off its routes and has no listener on other ports', () => {
  const push = pushFromYaml(...BASE, read('bookinfo-gateway.yaml'));
  const g = generatorFor(push);
  const e = explain(g, push, productpage, { ...req(), host: 'nosuch.example:9080' });
  assert.equal(e.virtualHost?.name, 'allow_any');
  assert.equal(e.route?.clusters[0].name, 'PassthroughCluster');
  const gw = proxyRef({
    type: 'router',
    ip: '127.0.0.1',
    name: 'istio-ingressgateway-0',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
  });
  const home = explain(g, push, gw, {
    method: 'GET',
    host: 'localhost',
    port: 80,
    path: '/productpage',
    headers: {},
  });
  assert.equal(home.error, undefined, JSON.stringify(home));
  assert.equal(home.route?.clusters[0].host, 'productpage.default.svc.cluster.local');
  const nr = explain(g, push, gw, {
    method: 'GET',
    host: 'localhost',
    port: 80,
    path: '/nosuch',
    headers: {},
  });
  assert.match(nr.error ?? '', /404 NR/);
  assert.ok(nr.tried.length > 1 && nr.tried.every((t) => /^path \/nosuch does not match/.test(t.why ?? '')));
  assert.match(explain(g, push, gw, { ...req(), port: 1234 }).error ?? '', /no listener/);
});
