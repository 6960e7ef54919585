// Route explainer simulation tests: bookinfo's request-routing and fault tasks, explained from the config
// the control plane generates for the productpage sidecar (local mode) and the ingress gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatorFor, proxyRef, pushFromYaml } from '../test-util.js';
import type { ProxyRef } from '../generator.js';
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
metadata: { name: ${name}, labels: { app: ${app}, version: ${version}, security.istio.io/tlsMode: istio } }
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

const ratings = proxyRef({
  ip: '127.1.0.3',
  name: 'ratings-v1-0',
  labels: { app: 'ratings', version: 'v1' },
  metadata: { INTERCEPTION_MODE: 'NONE', MIZZEN_APP_HOST: '127.2.0.3' },
});

/** An AuthorizationPolicy on the reviews workloads (the file is test-<index>.yaml, line 1 = apiVersion). */
const reviewsPolicy = (name: string, spec: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
${spec}`;

test('authz: an allow-nothing policy denies every request to reviews, naming the policy and its file:line', () => {
  const push = pushFromYaml(...BASE, reviewsPolicy('allow-nothing', ''));
  const e = explain(generatorFor(push), push, productpage, req());
  assert.equal(e.error, undefined);
  const authz = e.authz ?? [];
  assert.deepEqual(
    authz.map((a) => a.workload).sort(),
    ['default/reviews-v1-0', 'default/reviews-v2-0'],
    'one decision per reviews workload behind the cluster',
  );
  for (const a of authz) {
    assert.equal(a.decision, 'DENY');
    assert.equal(a.transport, 'mutual TLS');
    assert.equal(a.principal, 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
    assert.equal(a.policy?.resource, 'AuthorizationPolicy default/allow-nothing');
    assert.equal(a.policy?.noRules, true);
    assert.equal(a.policy?.file, 'test-3.yaml');
    assert.equal(a.policy?.line, 1, 'the resource itself: it has no rules');
    assert.match(
      a.summary,
      /^denied: no ALLOW policy matches \(AuthorizationPolicy default\/allow-nothing .*test-3\.yaml:1:1\)$/,
    );
  }
  assert.match(formatExplanation(e), /Authorization: {2}DENY at default\/reviews-v1-0 .*allow-nothing/);
});

test('authz: ALLOW by principal matches productpage over mutual TLS, not ratings, and nothing without policies', () => {
  const push = pushFromYaml(
    ...BASE,
    reviewsPolicy(
      'reviews-viewer',
      `  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }]
    to: [{ operation: { methods: ["GET"] } }]
`,
    ),
  );
  const g = generatorFor(push);
  const ok = explain(g, push, productpage, req()).authz?.[0];
  assert.equal(ok?.decision, 'ALLOW', ok?.summary);
  assert.equal(ok?.policy?.resource, 'AuthorizationPolicy default/reviews-viewer');
  assert.deepEqual([ok?.policy?.rule, ok?.policy?.file, ok?.policy?.line], [0, 'test-3.yaml', 7]);
  assert.equal(ok?.steps.length, 1);
  assert.deepEqual(
    ok?.steps[0].policies.map((p) => p.match),
    ['yes'],
  );
  const post = explain(g, push, productpage, { ...req(), method: 'POST' }).authz?.[0];
  assert.equal(post?.decision, 'DENY', 'the rule allows GET only');
  const other = explain(g, push, ratings, req()).authz?.[0];
  assert.equal(other?.principal, 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
  assert.equal(other?.decision, 'DENY', other?.summary);
  assert.match(
    other?.summary ?? '',
    /no ALLOW policy matches \(AuthorizationPolicy default\/reviews-viewer rule\[0\] at test-3\.yaml:7:/,
  );
  const none = pushFromYaml(...BASE);
  const free = explain(generatorFor(none), none, productpage, req()).authz?.[0];
  assert.equal(free?.decision, 'ALLOW');
  assert.equal(free?.summary, 'allowed: no policy applies');
});

test('authz: a DENY path rule matches the path after the destination normalizes it', () => {
  const push = pushFromYaml(
    ...BASE,
    reviewsPolicy(
      'deny-admin',
      `  action: DENY
  rules:
  - to: [{ operation: { paths: ["/admin*"] } }]
`,
    ),
  );
  const g = generatorFor(push);
  const admin = explain(g, push, productpage, { ...req(), path: '/reviews/../admin/x' }).authz?.[0];
  assert.equal(admin?.path, '/admin/x', 'BASE normalization resolves the dot segments');
  assert.equal(admin?.decision, 'DENY');
  assert.equal(
    admin?.summary,
    'denied by AuthorizationPolicy default/deny-admin rule[0] at test-3.yaml:8:5 (DENY)',
  );
  const fine = explain(g, push, productpage, req()).authz?.[0];
  assert.equal(fine?.decision, 'ALLOW');
  assert.equal(fine?.summary, 'allowed: no DENY policy matches and no ALLOW policy applies');
  assert.deepEqual(
    fine?.steps.map((s) => [s.action, s.policies[0].match]),
    [['DENY', 'no']],
  );
});

test('authz: request.auth conditions are left to the token; RequestAuthentication is named', () => {
  const push = pushFromYaml(
    ...BASE,
    reviewsPolicy(
      'jwt-group',
      `  rules:
  - when: [{ key: "request.auth.claims[groups]", values: ["group1"] }]
`,
    ),
    `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  jwtRules: [{ issuer: "testing@secure.istio.io", jwks: '{"keys":[]}' }]
`,
  );
  const a = explain(generatorFor(push), push, productpage, req()).authz?.[0];
  assert.equal(a?.decision, 'DEPENDS_ON_TOKEN', a?.summary);
  assert.equal(a?.withoutToken, 'DENY');
  assert.match(
    a?.summary ?? '',
    /^depends on the request's token .*jwt-group rule\[0\].*; without a token: denied$/,
  );
  assert.deepEqual(a?.requestAuthentication?.issuers, ['testing@secure.istio.io']);
  assert.match(
    a?.requestAuthentication?.resources[0] ?? '',
    /^RequestAuthentication default\/jwt at test-4\.yaml:1:1$/,
  );
});

test("authz: a gateway's own policy decides on the request as it arrives, before the destination's", () => {
  const push = pushFromYaml(
    ...BASE,
    read('bookinfo-gateway.yaml'),
    `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ingress-deny-logout, namespace: istio-system }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/logout"] } }] }]
`,
  );
  const gw = proxyRef({
    type: 'router',
    ip: '127.0.0.1',
    name: 'istio-ingressgateway-0',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
  });
  const g = generatorFor(push);
  const at = (path: string): Array<[string, string, string]> =>
    (explain(g, push, gw, { method: 'GET', host: 'localhost', port: 80, path, headers: {} }).authz ?? []).map(
      (a) => [a.at, a.workload, a.decision],
    );
  assert.deepEqual(at('/logout'), [
    ['gateway', 'istio-system/istio-ingressgateway-0', 'DENY'],
    ['destination', 'default/productpage-v1-0', 'ALLOW'],
  ]);
  assert.deepEqual(at('/productpage'), [
    ['gateway', 'istio-system/istio-ingressgateway-0', 'ALLOW'],
    ['destination', 'default/productpage-v1-0', 'ALLOW'],
  ]);
  const e = explain(g, push, gw, {
    method: 'GET',
    host: 'localhost',
    port: 80,
    path: '/logout',
    headers: {},
  });
  assert.equal(
    e.authz?.[0].summary,
    'denied by AuthorizationPolicy istio-system/ingress-deny-logout rule[0] at test-4.yaml:7:11 (DENY)',
  );
  const noPolicy = pushFromYaml(...BASE, read('bookinfo-gateway.yaml'));
  const plain = explain(generatorFor(noPolicy), noPolicy, gw, {
    method: 'GET',
    host: 'localhost',
    port: 80,
    path: '/productpage',
    headers: {},
  });
  assert.deepEqual(
    plain.authz?.map((a) => a.at),
    ['destination'],
    'a gateway without policies enforces nothing of its own',
  );
});

test('authz: a TCP destination is decided by its network RBAC, where HTTP-only ALLOW rules are left out', () => {
  const tcpEcho = `apiVersion: v1
kind: Service
metadata: { name: tcp-echo, namespace: default }
spec:
  selector: { app: tcp-echo }
  ports: [{ name: tcp, port: 9000, targetPort: 9000 }]
---
apiVersion: v1
kind: Pod
metadata: { name: tcp-echo-0, labels: { app: tcp-echo, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: tcp-echo, containers: [{ name: tcp-echo, ports: [{ containerPort: 9000 }] }] }
status: { podIP: 127.1.0.12, conditions: [{ type: Ready, status: "True" }] }
`;
  const policy = (rule: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: tcp-echo, namespace: default }
spec:
  selector: { matchLabels: { app: tcp-echo } }
  rules: [${rule}]
`;
  const tcpReq: ExplainRequest = { method: 'GET', host: 'tcp-echo:9000', path: '/', headers: {} };
  // Captured traffic (REDIRECT): local mode's HTTP proxy listener does not take raw TCP.
  const captured = (name: string, app: string, ip: string): ProxyRef =>
    proxyRef({ ip, name, labels: { app, version: 'v1' } });
  const pp = captured('productpage-v1-0', 'productpage', '127.1.0.7');
  const byPrincipal = pushFromYaml(
    ...BASE,
    tcpEcho,
    policy('{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }'),
  );
  const g = generatorFor(byPrincipal);
  const ok = explain(g, byPrincipal, pp, tcpReq);
  assert.equal(ok.listener?.tcpCluster, 'outbound|9000||tcp-echo.default.svc.cluster.local');
  assert.equal(ok.authz?.[0].decision, 'ALLOW', ok.authz?.[0].summary);
  assert.equal(ok.authz?.[0].path, '', 'no HTTP on this chain');
  assert.equal(
    explain(g, byPrincipal, captured('ratings-v1-0', 'ratings', '127.1.0.3'), tcpReq).authz?.[0].decision,
    'DENY',
  );
  const byMethod = pushFromYaml(...BASE, tcpEcho, policy('{ to: [{ operation: { methods: ["GET"] } }] }'));
  const m = explain(generatorFor(byMethod), byMethod, pp, tcpReq).authz?.[0];
  assert.equal(m?.decision, 'DENY');
  assert.match(m?.summary ?? '', /none has a rule for this chain/);
});
