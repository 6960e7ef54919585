// Which proxies get which security filters: namespace, root namespace, selector, Gateway API targetRef;
// gateways get jwt_authn and RBAC on HTTP chains and network RBAC on TCP chains; X-Forwarded-For trust.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeUrl } from '../../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from '../test-util.js';
import { attaches } from './policy-selection.js';

const GATEWAY = `apiVersion: v1
kind: Service
metadata: { name: httpbin }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000 }, { name: tcp, port: 9000 }] }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
    - { port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }
    - { port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin, namespace: istio-system }
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{ route: [{ destination: { host: httpbin.default.svc.cluster.local, port: { number: 8000 } } }] }]
  tcp: [{ match: [{ port: 31400 }], route: [{ destination: { host: httpbin.default.svc.cluster.local, port: { number: 9000 } } }] }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } }
`;

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ingress, namespace: istio-system }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ from: [{ source: { remoteIpBlocks: ["1.2.3.4"] } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  jwtRules: [{ issuer: "a", jwks: '{"keys":[]}' }]
`;

const gateway = proxyRef({
  type: 'router',
  ip: '127.0.0.1',
  name: 'istio-ingressgateway-0',
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway' },
  metadata: { INTERCEPTION_MODE: 'NONE' },
});

test('gateway HTTP chains get jwt_authn then RBAC first and trust numTrustedProxies hops; TCP chains get network RBAC', () => {
  const ls = generatorFor(pushFromYaml(GATEWAY, POLICIES))
    .generate(gateway, TypeUrl.LISTENER, [])
    .map((l) => roundTrip(TypeUrl.LISTENER, l)) as any[];
  const http = ls.find((l) => l.address.socketAddress.portValue === 8080).filterChains[0].filters[0]
    .typedConfig;
  const names: string[] = http.httpFilters.map((f: any) => f.name);
  assert.deepEqual(names.slice(0, 2), ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac']);
  assert.equal(names.at(-1), 'envoy.filters.http.router');
  assert.equal(http.xffNumTrustedHops, 2);
  const tcp = ls.find((l) => l.address.socketAddress.portValue === 31400).filterChains[0].filters;
  assert.deepEqual(
    tcp.map((f: any) => f.name),
    ['envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy'],
  );
  assert.deepEqual(Object.keys(tcp[0].typedConfig.rules.policies), [
    'ns[istio-system]-policy[ingress]-rule[0]',
  ]);
});

test('a gateway without matching policies gets no security filters', () => {
  const other = proxyRef({
    ...{ type: 'router' as const, ip: '127.0.0.1', name: 'gw2', namespace: 'istio-system' },
    labels: { istio: 'other' },
  });
  const ls = generatorFor(pushFromYaml(GATEWAY, POLICIES)).generate(other, TypeUrl.LISTENER, []) as any[];
  for (const l of ls)
    for (const c of l.filterChains)
      for (const f of c.filters) {
        assert.notEqual(f.name, 'envoy.filters.network.rbac');
        for (const h of f.typedConfig.httpFilters ?? []) assert.ok(!/rbac|jwt/.test(h.name), h.name);
      }
});

const res = (ns: string, spec: Record<string, unknown>): any => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: ns },
  spec,
});

test("attachment follows Istio's ShouldAttachPolicy", () => {
  const app = { app: 'httpbin' };
  const gw = { 'gateway.networking.k8s.io/gateway-name': 'web', app: 'x' };
  const target = (kind: string, name: string, group = 'gateway.networking.k8s.io'): any => ({
    targetRefs: [{ kind, name, group }],
  });
  const table: [string, any, Record<string, string>, boolean][] = [
    ['no selector: whole namespace', res('foo', {}), app, true],
    ['selector matching', res('foo', { selector: { matchLabels: app } }), app, true],
    ['selector not matching', res('foo', { selector: { matchLabels: { app: 'other' } } }), app, false],
    ['targetRef never attaches to a sidecar', res('foo', target('Service', 'httpbin', '')), app, false],
    ['Gateway targetRef attaches to that gateway', res('foo', target('Gateway', 'web')), gw, true],
    ['Gateway targetRef to another gateway', res('foo', target('Gateway', 'api')), gw, false],
    ['Gateway targetRef from another namespace', res('bar', target('Gateway', 'web')), gw, false],
    ['selector policy still applies to a Gateway API gateway', res('foo', {}), gw, true],
  ];
  for (const [name, r, labels, want] of table) assert.equal(attaches(r, labels, 'foo'), want, name);
});
