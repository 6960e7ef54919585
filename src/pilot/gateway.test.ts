// Gateways: server selection by labels, HTTP/HTTPS/TCP servers, host binding of VirtualServices,
// httpsRedirect, SDS credentials from Secrets, port offsets in local mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip, simulate } from './test-util.js';

const CONFIG = `apiVersion: v1
kind: Service
metadata: { name: httpbin }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: tcp-echo }
spec: { selector: { app: tcp-echo }, ports: [{ name: tcp, port: 9000 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: httpbin-credential, namespace: istio-system }
type: kubernetes.io/tls
stringData: { tls.crt: CERT, tls.key: KEY }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: httpbin-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: [httpbin.example.com]
      tls: { httpsRedirect: true }
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: [httpbin.example.com]
      tls: { mode: SIMPLE, credentialName: httpbin-credential }
    - port: { number: 31400, name: tcp, protocol: TCP }
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin }
spec:
  hosts: [httpbin.example.com, other.example.com]
  gateways: [httpbin-gateway]
  http:
    - match: [{ uri: { prefix: /status } }, { uri: { prefix: /delay } }]
      route: [{ destination: { host: httpbin, port: { number: 8000 } } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp-echo }
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway]
  tcp:
    - match: [{ port: 31400 }]
      route: [{ destination: { host: tcp-echo, port: { number: 9000 } } }]
`;

const gateway = (metadata: Record<string, unknown>) =>
  proxyRef({
    type: 'router',
    ip: '127.0.0.1',
    name: 'istio-ingressgateway-0',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
    metadata,
  });

test('gateway servers become listeners; ports < 1024 move by the offset in local mode', () => {
  const g = generatorFor(pushFromYaml(CONFIG));
  const local = g.generate(gateway({ INTERCEPTION_MODE: 'NONE' }), TypeUrl.LISTENER, []);
  assert.deepEqual(
    local.map((l) => [
      l.name,
      (l.address as any).socketAddress.address,
      (l.address as any).socketAddress.portValue,
    ]),
    [
      ['0.0.0.0_8080', '127.0.0.1', 8080],
      ['0.0.0.0_8443', '127.0.0.1', 8443],
      ['0.0.0.0_31400', '127.0.0.1', 31400],
    ],
  );
  for (const l of local) roundTrip(TypeUrl.LISTENER, l);
  const k8s = g.generate(gateway({}), TypeUrl.LISTENER, []);
  assert.deepEqual(
    k8s.map((l) => l.name),
    ['0.0.0.0_80', '0.0.0.0_443', '0.0.0.0_31400'],
  );
  const offset = g.generate(gateway({ MIZZEN_GATEWAY_PORT_OFFSET: '10000' }), TypeUrl.LISTENER, []);
  assert.equal(offset[0].name, '0.0.0.0_10080');

  const tcp = local[2];
  assert.equal(
    (tcp.filterChains as any)[0].filters.at(-1).typedConfig.cluster,
    'outbound|9000||tcp-echo.default.svc.cluster.local',
  );
  const https = local[1];
  const chain = (https.filterChains as any)[0];
  assert.deepEqual(chain.filterChainMatch.serverNames, ['httpbin.example.com']);
  assert.deepEqual(chain.transportSocket.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs, [
    { name: 'kubernetes://httpbin-credential', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } },
  ]);
  assert.equal(chain.filters[0].typedConfig.rds.routeConfigName, 'https.443.https.httpbin-gateway.default');
});

test('gateway routes: only the hosts the server admits; httpsRedirect; SDS secret from the Secret', () => {
  const g = generatorFor(pushFromYaml(CONFIG));
  const proxy = gateway({ INTERCEPTION_MODE: 'NONE' });
  const http = roundTrip(TypeUrl.ROUTE, g.generate(proxy, TypeUrl.ROUTE, ['http.8080'])[0]);
  assert.deepEqual(
    (http.virtualHosts as any[]).map((v) => [v.name, v.domains, v.requireTls]),
    [
      [
        'httpbin.example.com:80',
        ['httpbin.example.com', 'httpbin.example.com:80', 'httpbin.example.com:8080'],
        'ALL',
      ],
    ],
  );
  const https = roundTrip(
    TypeUrl.ROUTE,
    g.generate(proxy, TypeUrl.ROUTE, ['https.443.https.httpbin-gateway.default'])[0],
  );
  assert.equal(
    simulate(https, { host: 'httpbin.example.com', path: '/status/200' })?.cluster,
    'outbound|8000||httpbin.default.svc.cluster.local',
  );
  assert.equal(simulate(https, { host: 'httpbin.example.com', path: '/headers' }), null);
  assert.equal(
    simulate(https, { host: 'other.example.com', path: '/status/200' }),
    null,
    'the server does not admit this host',
  );
  const [secret] = g.generate(proxy, TypeUrl.SECRET, ['kubernetes://httpbin-credential']);
  const s = roundTrip(TypeUrl.SECRET, secret) as any;
  assert.equal(Buffer.from(s.tlsCertificate.certificateChain.inlineBytes).toString(), 'CERT');
  assert.equal(Buffer.from(s.tlsCertificate.privateKey.inlineBytes).toString(), 'KEY');
});
