// Which resources reach a proxy, read from the config pilot generates for it (bookinfo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatorFor, proxyRef, pushFromYaml } from '../test-util.js';
import type { ProxyRef } from '../generator.js';
import { reachedResources, resourceOfConfigPath } from './reach.js';

const EXAMPLES = join(process.cwd(), 'examples', 'bookinfo');
const read = (f: string): string => readFileSync(join(EXAMPLES, f), 'utf8');

test('config paths name the resource', () => {
  assert.equal(
    resourceOfConfigPath('/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews'),
    'VirtualService default/reviews',
  );
  assert.equal(
    resourceOfConfigPath('/apis/networking.istio.io/v1/namespaces/ns1/destination-rule/r'),
    'DestinationRule ns1/r',
  );
  assert.equal(resourceOfConfigPath('/something/else'), undefined);
});

test("productpage's sidecar is reached by the reviews VirtualService and the DestinationRules it routes through", () => {
  const push = pushFromYaml(
    read('bookinfo.yaml'),
    read('networking/destination-rule-all.yaml'),
    read('networking/virtual-service-reviews-50-v3.yaml'),
  );
  const productpage = proxyRef({
    ip: '127.1.0.7',
    name: 'productpage-v1-0',
    labels: { app: 'productpage', version: 'v1' },
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  const reached = reachedResources(generatorFor(push), productpage);
  assert.ok(reached.has('VirtualService default/reviews'), [...reached].join(', '));
  assert.ok(reached.has('DestinationRule default/reviews'), [...reached].join(', '));
  assert.ok(!reached.has('Gateway default/bookinfo-gateway'));
});

const SELECTED = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: mesh-jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "testing@secure.istio.io", jwks: '{"keys":[]}' }]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ratings-permissive, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  mtls: { mode: PERMISSIVE }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: default }
spec:
  egress: [{ hosts: ["./*", "istio-system/*"] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews-logs, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin-ext, namespace: default }
spec:
  hosts: [httpbin.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: private-ext, namespace: other, }
spec:
  hosts: [private.example.com]
  exportTo: ["."]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
`;

test('kinds pilot does not stamp reach the proxies pilot selects them for', () => {
  const push = pushFromYaml(read('bookinfo.yaml'), read('bookinfo-gateway.yaml'), SELECTED);
  const g = generatorFor(push);
  const sidecar = (name: string, app: string): ProxyRef =>
    proxyRef({
      ip: '127.1.0.9',
      name,
      labels: { app, version: 'v1' },
      metadata: { INTERCEPTION_MODE: 'NONE' },
    });
  const reviews = reachedResources(g, sidecar('reviews-v1-0', 'reviews'));
  const ratings = reachedResources(g, sidecar('ratings-v1-0', 'ratings'));
  const gateway = reachedResources(
    g,
    proxyRef({
      type: 'router',
      ip: '127.0.0.1',
      name: 'istio-ingressgateway-0',
      namespace: 'istio-system',
      labels: { istio: 'ingressgateway' },
    }),
  );
  const list = (s: Set<string>): string => [...s].sort().join(', ');
  // AuthorizationPolicy by selector; RequestAuthentication of the root namespace everywhere.
  assert.ok(reviews.has('AuthorizationPolicy default/reviews-viewer'), list(reviews));
  assert.ok(!ratings.has('AuthorizationPolicy default/reviews-viewer'), list(ratings));
  for (const r of [reviews, ratings, gateway])
    assert.ok(r.has('RequestAuthentication istio-system/mesh-jwt'), list(r));
  // PeerAuthentication: the one deciding the workload's mode (ratings' own overrides the namespace's).
  assert.ok(reviews.has('PeerAuthentication default/default'), list(reviews));
  assert.ok(!reviews.has('PeerAuthentication default/ratings-permissive'), list(reviews));
  assert.ok(ratings.has('PeerAuthentication default/ratings-permissive'), list(ratings));
  assert.ok(!ratings.has('PeerAuthentication default/default'), list(ratings));
  assert.ok(!gateway.has('PeerAuthentication default/default'), 'gateways terminate their own TLS');
  // Sidecar: the namespace's, for its sidecars only; Telemetry by selector.
  assert.ok(reviews.has('Sidecar default/default') && ratings.has('Sidecar default/default'));
  assert.ok(!gateway.has('Sidecar default/default'), list(gateway));
  assert.ok(reviews.has('Telemetry default/reviews-logs') && !ratings.has('Telemetry default/reviews-logs'));
  // Gateway: the gateway proxies its selector matches.
  assert.ok(gateway.has('Gateway default/bookinfo-gateway'), list(gateway));
  assert.ok(!reviews.has('Gateway default/bookinfo-gateway'), list(reviews));
  // ServiceEntry: proxies whose scope holds its hosts (exportTo "." keeps private-ext in its namespace).
  for (const r of [reviews, gateway]) assert.ok(r.has('ServiceEntry default/httpbin-ext'), list(r));
  assert.ok(!reviews.has('ServiceEntry other/private-ext'), list(reviews));
});
