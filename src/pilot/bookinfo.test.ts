// Simulation tests: bookinfo config in, Envoy resources out (encoded with the real Envoy protos), and
// what a call picks (virtual host, route, cluster, weights, fault, retries, timeout, mirror).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeUrl } from '../xds/type-urls.js';
import type { CanonicalObject } from '../xds/protos.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip, simulate } from './test-util.js';
import { FILTERS } from './envoy.js';

const EXAMPLES = join(process.cwd(), 'examples', 'bookinfo');
const read = (f: string): string => readFileSync(join(EXAMPLES, f), 'utf8');

/** One Pod per bookinfo workload, with pod IPs as `mizzen up` assigns them. */
const PODS = [
  ['details-v1-0', 'details', 'v1', '127.1.0.2'],
  ['ratings-v1-0', 'ratings', 'v1', '127.1.0.3'],
  ['reviews-v1-0', 'reviews', 'v1', '127.1.0.4'],
  ['reviews-v2-0', 'reviews', 'v2', '127.1.0.5'],
  ['reviews-v3-0', 'reviews', 'v3', '127.1.0.6'],
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
const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';
const cluster = (host: string, subset = '', port = 9080): string => `outbound|${port}|${subset}|${host}`;

/** The productpage sidecar in local mode (interception NONE, app on 127.2.0.7). */
const productpage = proxyRef({
  ip: '127.1.0.7',
  name: 'productpage-v1-0',
  labels: { app: 'productpage', version: 'v1' },
  metadata: { INTERCEPTION_MODE: 'NONE', MIZZEN_APP_HOST: '127.2.0.7' },
});

/** Route config `name` for the proxy, after a round trip through the real protos. */
function routeConfig(yaml: string[], name: string, proxy = productpage): CanonicalObject {
  const g = generatorFor(pushFromYaml(...BASE, ...yaml));
  const [rc] = g.generate(proxy, TypeUrl.ROUTE, [name]);
  assert.ok(rc, `no route config ${name}`);
  return roundTrip(TypeUrl.ROUTE, rc);
}

test('every generated resource is valid Envoy v3 (sidecar in local and REDIRECT mode, gateway)', () => {
  const g = generatorFor(
    pushFromYaml(
      ...BASE,
      read('networking/virtual-service-reviews-test-v2.yaml'),
      read('bookinfo-gateway.yaml'),
    ),
  );
  const redirect = proxyRef({
    ip: '10.0.0.7',
    name: 'productpage-v1-0',
    labels: { app: 'productpage', version: 'v1' },
  });
  const gateway = proxyRef({
    type: 'router',
    ip: '127.0.0.1',
    name: 'istio-ingressgateway-0',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  for (const proxy of [productpage, redirect, gateway]) {
    const listeners = g.generate(proxy, TypeUrl.LISTENER, []);
    const clusters = g.generate(proxy, TypeUrl.CLUSTER, []);
    const routes = g.generate(proxy, TypeUrl.ROUTE, g.routeNames(proxy));
    const eds = clusters.filter((c) => c.type === 'EDS').map((c) => String(c.name));
    const endpoints = g.generate(proxy, TypeUrl.ENDPOINT, eds);
    assert.ok(
      listeners.length > 0 && clusters.length > 0 && routes.length > 0 && endpoints.length > 0,
      proxy.id,
    );
    for (const [t, rs] of [
      [TypeUrl.LISTENER, listeners],
      [TypeUrl.CLUSTER, clusters],
      [TypeUrl.ROUTE, routes],
      [TypeUrl.ENDPOINT, endpoints],
    ] as const)
      for (const r of rs)
        assert.deepEqual(
          roundTrip(t, r),
          r,
          `${proxy.id}: ${String(r.name ?? r.clusterName)} is not in canonical form`,
        );
  }
  const redirectListeners = g.generate(redirect, TypeUrl.LISTENER, []).map((l) => l.name);
  assert.deepEqual(redirectListeners, ['virtualOutbound', 'virtualInbound', '0.0.0.0_9080']);
});

test('local mode: inbound listener at podIP:port to the app, HTTP proxy listener on podIP:15001', () => {
  const g = generatorFor(pushFromYaml(...BASE));
  const listeners = g.generate(productpage, TypeUrl.LISTENER, []);
  assert.deepEqual(
    listeners.map((l) => [l.name, (l.address as any).socketAddress]),
    [
      ['127.1.0.7_9080', { address: '127.1.0.7', portValue: 9080 }],
      ['127.1.0.7_15001', { address: '127.1.0.7', portValue: 15001 }],
    ],
  );
  const hcm = (listeners[1].filterChains as any)[0].filters[0].typedConfig;
  assert.equal(hcm.rds.routeConfigName, 'http_proxy');
  assert.deepEqual(
    hcm.httpFilters.map((f: any) => f.name),
    [FILTERS.CORS, FILTERS.FAULT, 'istio.stats', FILTERS.ROUTER],
  );
  const inbound = g.generate(productpage, TypeUrl.CLUSTER, ['inbound|9080||'])[0];
  assert.deepEqual(
    (inbound.loadAssignment as any).endpoints[0].lbEndpoints[0].endpoint.address.socketAddress,
    {
      address: '127.2.0.7',
      portValue: 9080,
    },
  );
  const inboundRoute = (listeners[0].filterChains as any)[0].filters[0].typedConfig.routeConfig;
  assert.equal(simulate(inboundRoute, { host: 'anything', path: '/x' })?.cluster, 'inbound|9080||');
});

test('no VirtualService: every name form of a service reaches its default cluster with Istio default retries', () => {
  const rc = routeConfig([], 'http_proxy');
  for (const host of [
    'reviews:9080',
    'reviews.default:9080',
    'reviews.default.svc:9080',
    `${REVIEWS}:9080`,
  ]) {
    const pick = simulate(rc, { host, path: '/reviews/0' });
    assert.equal(pick?.cluster, cluster(REVIEWS), host);
    const action = pick.route.route as any;
    assert.deepEqual(action.timeout, {});
    assert.equal(
      action.retryPolicy.retryOn,
      'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    );
    assert.equal(action.retryPolicy.numRetries.value, 2);
    assert.equal(action.retryPolicy.retriableStatusCodes, undefined, '503 is not retried by default');
  }
  // Unknown hosts go to the passthrough (ALLOW_ANY is the default).
  assert.equal(simulate(rc, { host: 'example.com', path: '/' })?.cluster, 'PassthroughCluster');
  // The per-port route config works the same way, with and without the port.
  const port = routeConfig([], '9080');
  assert.equal(simulate(port, { host: 'ratings', path: '/' })?.cluster, cluster(RATINGS));
});

test('reviews-test-v2: end-user jason gets v2, everyone else v1', () => {
  const rc = routeConfig([read('networking/virtual-service-reviews-test-v2.yaml')], 'http_proxy');
  assert.equal(
    simulate(rc, { host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } })?.cluster,
    cluster(REVIEWS, 'v2'),
  );
  assert.equal(
    simulate(rc, { host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'json' } })?.cluster,
    cluster(REVIEWS, 'v1'),
  );
  assert.equal(simulate(rc, { host: 'reviews:9080', path: '/reviews/0' })?.cluster, cluster(REVIEWS, 'v1'));
});

test('80/20 weights become weighted clusters', () => {
  const rc = routeConfig([read('networking/virtual-service-reviews-80-20.yaml')], 'http_proxy');
  assert.deepEqual(simulate(rc, { host: 'reviews:9080', path: '/' })?.weights, {
    [cluster(REVIEWS, 'v1')]: 80,
    [cluster(REVIEWS, 'v2')]: 20,
  });
});

test('fault abort and delay: per-route HTTPFault for jason only; a faulted route has no timeout or retries', () => {
  const abort = routeConfig([read('networking/virtual-service-ratings-test-abort.yaml')], 'http_proxy');
  const jason = simulate(abort, {
    host: 'ratings:9080',
    path: '/ratings/0',
    headers: { 'end-user': 'jason' },
  })!;
  const fault = (jason.route.typedPerFilterConfig as any)[FILTERS.FAULT];
  assert.equal(fault['@type'], 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault');
  assert.deepEqual(fault.abort, {
    httpStatus: 500,
    percentage: { numerator: 1000000, denominator: 'MILLION' },
  });
  assert.equal((jason.route.route as any).retryPolicy, undefined);
  const other = simulate(abort, { host: 'ratings:9080', path: '/ratings/0' })!;
  assert.equal(other.route.typedPerFilterConfig, undefined);
  assert.equal(other.cluster, cluster(RATINGS, 'v1'));

  const delay = routeConfig([read('networking/virtual-service-ratings-test-delay.yaml')], 'http_proxy');
  const d = simulate(delay, { host: 'ratings:9080', path: '/', headers: { 'end-user': 'jason' } })!;
  assert.deepEqual((d.route.typedPerFilterConfig as any)[FILTERS.FAULT].delay, {
    fixedDelay: { seconds: 7 },
    percentage: { numerator: 1000000, denominator: 'MILLION' },
  });
});

test('timeouts and retries from the VirtualService', () => {
  const timeout = routeConfig([read('networking/virtual-service-reviews-timeout.yaml')], 'http_proxy');
  const t = simulate(timeout, { host: 'reviews:9080', path: '/' })!;
  assert.deepEqual((t.route.route as any).timeout, { nanos: 500000000 });
  const retries = routeConfig(
    [
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
    - route: [{ destination: { host: ratings, subset: v1 } }]
      timeout: 1s
      retries: { attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,503" }
    `,
    ],
    'http_proxy',
  );
  const r = (simulate(retries, { host: 'ratings:9080', path: '/' })!.route.route as any).retryPolicy;
  assert.equal(r.numRetries.value, 3);
  assert.equal(r.retryOn, 'gateway-error,connect-failure,retriable-status-codes');
  assert.deepEqual(r.retriableStatusCodes, [503]);
  assert.deepEqual(r.perTryTimeout, { seconds: 1 }, 'perTryTimeout is capped by the route timeout');
  const off = routeConfig(
    [
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: ratings } }], retries: { attempts: 0 } }]
`,
    ],
    'http_proxy',
  );
  assert.equal(
    (simulate(off, { host: 'ratings:9080', path: '/' })!.route.route as any).retryPolicy,
    undefined,
  );
});

test('mirror, rewrite, headers, redirect, direct response and CORS', () => {
  const rc = routeConfig(
    [
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { prefix: /old } }]
      redirect: { uri: /new, redirectCode: 302 }
    - match: [{ uri: { exact: /gone } }]
      directResponse: { status: 410, body: { string: gone } }
    - match: [{ uri: { prefix: /v1api }, ignoreUriCase: true }]
      rewrite: { uri: /api, authority: reviews-internal }
      headers:
        request: { set: { x-a: "1" }, add: { x-b: "2" }, remove: [x-c] }
        response: { set: { x-served-by: mizzen } }
      route: [{ destination: { host: reviews, subset: v1 } }]
      corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: [GET, POST], maxAge: 24h }
    - route: [{ destination: { host: reviews, subset: v1 } }]
      mirror: { host: reviews, subset: v2 }
      mirrorPercentage: { value: 50 }
`,
    ],
    'http_proxy',
  );
  const redirect = simulate(rc, { host: 'reviews:9080', path: '/old/x' })!;
  assert.deepEqual(redirect.redirect, { pathRedirect: '/new', responseCode: 'FOUND' });
  assert.deepEqual(simulate(rc, { host: 'reviews:9080', path: '/gone' })!.directResponse, {
    status: 410,
    body: { inlineString: 'gone' },
  });
  const api = simulate(rc, { host: 'reviews:9080', path: '/V1API/x' })!;
  const action = api.route.route as any;
  assert.equal(action.prefixRewrite, '/api');
  assert.equal(action.hostRewriteLiteral, 'reviews-internal');
  assert.deepEqual(api.route.requestHeadersToAdd, [
    { header: { key: 'x-a', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { header: { key: 'x-b', value: '2' } },
  ]);
  assert.deepEqual(api.route.requestHeadersToRemove, ['x-c']);
  const cors = (api.route.typedPerFilterConfig as any)[FILTERS.CORS];
  assert.deepEqual(cors.allowOriginStringMatch, [{ exact: 'https://example.com' }]);
  assert.equal(cors.allowMethods, 'GET,POST');
  assert.equal(cors.maxAge, '86400');
  const mirror = simulate(rc, { host: 'reviews:9080', path: '/reviews/1' })!;
  assert.deepEqual((mirror.route.route as any).requestMirrorPolicies, [
    {
      cluster: cluster(REVIEWS, 'v2'),
      runtimeFraction: { defaultValue: { numerator: 500000, denominator: 'MILLION' } },
    },
  ]);
});

test('sourceLabels and match ports decide at config time which proxies get a rule', () => {
  const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
    - match: [{ sourceLabels: { app: reviews, version: v2 } }]
      route: [{ destination: { host: ratings, subset: v2 } }]
    - route: [{ destination: { host: ratings, subset: v1 } }]
`;
  const reviewsV2 = proxyRef({
    ip: '127.1.0.5',
    name: 'reviews-v2-0',
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  const reviewsV1 = proxyRef({
    ip: '127.1.0.4',
    name: 'reviews-v1-0',
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  // Labels come from the Pod in config when the proxy sends none.
  assert.equal(
    simulate(routeConfig([vs], 'http_proxy', reviewsV2), { host: 'ratings:9080', path: '/' })?.cluster,
    cluster(RATINGS, 'v2'),
  );
  assert.equal(
    simulate(routeConfig([vs], 'http_proxy', reviewsV1), { host: 'ratings:9080', path: '/' })?.cluster,
    cluster(RATINGS, 'v1'),
  );
});

test('delegate VirtualServices: the root match ANDs with the delegate rules', () => {
  const rc = routeConfig(
    [
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews-root }
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { prefix: /reviews } }]
      delegate: { name: reviews-delegate }
    - route: [{ destination: { host: reviews, subset: v3 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews-delegate }
spec:
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - route: [{ destination: { host: reviews, subset: v1 } }]
`,
    ],
    'http_proxy',
  );
  assert.equal(
    simulate(rc, { host: 'reviews:9080', path: '/reviews/1', headers: { 'end-user': 'jason' } })?.cluster,
    cluster(REVIEWS, 'v2'),
  );
  assert.equal(simulate(rc, { host: 'reviews:9080', path: '/reviews/1' })?.cluster, cluster(REVIEWS, 'v1'));
  assert.equal(
    simulate(rc, { host: 'reviews:9080', path: '/health', headers: { 'end-user': 'jason' } })?.cluster,
    cluster(REVIEWS, 'v3'),
  );
});

test('ingress gateway: bookinfo-gateway on port 80 binds 127.0.0.1:8080 in local mode; unmatched paths get no route', () => {
  const g = generatorFor(pushFromYaml(...BASE, read('bookinfo-gateway.yaml')));
  const gateway = proxyRef({
    type: 'router',
    ip: '127.0.0.1',
    name: 'istio-ingressgateway-0',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  const [listener] = g.generate(gateway, TypeUrl.LISTENER, []);
  assert.equal(listener?.name, '0.0.0.0_8080');
  assert.deepEqual((listener.address as any).socketAddress, { address: '127.0.0.1', portValue: 8080 });
  const hcm = (listener.filterChains as any)[0].filters[0].typedConfig;
  assert.equal(hcm.serverName, 'istio-envoy');
  assert.equal(hcm.rds.routeConfigName, 'http.8080');
  const rc = roundTrip(TypeUrl.ROUTE, g.generate(gateway, TypeUrl.ROUTE, ['http.8080'])[0]);
  assert.equal(
    simulate(rc, { host: '127.0.0.1:8080', path: '/productpage' })?.cluster,
    cluster('productpage.default.svc.cluster.local'),
  );
  assert.equal(
    simulate(rc, { host: 'bookinfo.example.com', path: '/api/v1/products/1' })?.cluster,
    cluster('productpage.default.svc.cluster.local'),
  );
  assert.equal(simulate(rc, { host: '127.0.0.1:8080', path: '/admin' }), null);
  // A gateway proxy whose labels do not match gets nothing; a sidecar does not get the gateway's VirtualService.
  const other = proxyRef({
    type: 'router',
    ip: '127.0.0.9',
    name: 'egress-0',
    namespace: 'istio-system',
    labels: { istio: 'egressgateway' },
  });
  assert.deepEqual(g.generate(other, TypeUrl.LISTENER, []), []);
  const sidecar = roundTrip(TypeUrl.ROUTE, g.generate(productpage, TypeUrl.ROUTE, ['http_proxy'])[0]);
  assert.equal(
    simulate(sidecar, { host: 'productpage:9080', path: '/admin' })?.cluster,
    cluster('productpage.default.svc.cluster.local'),
  );
});
