// Gateway servers of every TLS mode: SIMPLE/MUTUAL from files or credentialName (SDS, CA in the same
// or a `-cacert` Secret, old `cert`/`key`/`cacert` keys), versions and ciphers, several hosts per port
// by SNI, PASSTHROUGH by sniHosts, TLS termination with tcp rules, weighted TCP and idle timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';
import { sdsName } from './gateway-tls.js';

const SERVICES = `apiVersion: v1
kind: Service
metadata: { name: httpbin }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: nginx }
spec: { selector: { app: nginx }, ports: [{ name: https, port: 443 }] }
---
apiVersion: v1
kind: Service
metadata: { name: tcp-echo }
spec: { selector: { app: tcp-echo }, ports: [{ name: tcp, port: 9000 }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: tcp-echo }
spec:
  host: tcp-echo
  trafficPolicy: { connectionPool: { tcp: { idleTimeout: 30s } } }
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 443, name: https-a, protocol: HTTPS }
      hosts: [a.example.com]
      tls: { mode: SIMPLE, credentialName: a-cred, minProtocolVersion: TLSV1_3, cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256] }
    - port: { number: 443, name: https-b, protocol: HTTPS }
      hosts: [b.example.com]
      tls: { mode: MUTUAL, credentialName: b-cred, subjectAltNames: [client.example.com] }
    - port: { number: 443, name: tls-nginx, protocol: TLS }
      hosts: [nginx.example.com]
      tls: { mode: PASSTHROUGH }
    - port: { number: 8443, name: https-files, protocol: HTTPS }
      hosts: ["*"]
      tls: { mode: MUTUAL, serverCertificate: /certs/tls.crt, privateKey: /certs/tls.key, caCertificates: /certs/ca.crt, maxProtocolVersion: TLSV1_2 }
    - port: { number: 9443, name: tls-terminate, protocol: TLS }
      hosts: [echo.example.com]
      tls: { mode: SIMPLE, credentialName: a-cred }
    - port: { number: 31400, name: tcp, protocol: TCP }
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: nginx }
spec:
  hosts: [nginx.example.com]
  gateways: [gw]
  tls:
    - match: [{ port: 443, sniHosts: [nginx.example.com] }]
      route: [{ destination: { host: nginx, port: { number: 443 } } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
    - match: [{ port: 9443 }]
      route: [{ destination: { host: tcp-echo, port: { number: 9000 }, subset: v1 } }]
    - match: [{ port: 31400 }]
      route:
        - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v1 }, weight: 80 }
        - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v2 }, weight: 20 }
        - { destination: { host: tcp-echo, port: { number: 9000 } }, weight: 0 }
---
apiVersion: v1
kind: Secret
metadata: { name: a-cred }
type: kubernetes.io/tls
stringData: { tls.crt: A-CERT, tls.key: A-KEY }
---
apiVersion: v1
kind: Secret
metadata: { name: b-cred }
type: Opaque
stringData: { cert: B-CERT, key: B-KEY, cacert: B-CA }
---
apiVersion: v1
kind: Secret
metadata: { name: c-cred }
type: kubernetes.io/tls
data: { tls.crt: Qy1DRVJU, tls.key: Qy1LRVk=, ca.crt: SU5MSU5FLUNB }
---
apiVersion: v1
kind: Secret
metadata: { name: c-cred-cacert }
stringData: { ca.crt: SEPARATE-CA }
`;

const gw = proxyRef({
  type: 'router',
  ip: '127.0.0.1',
  name: 'gw-0',
  labels: { istio: 'ingressgateway' },
  metadata: { INTERCEPTION_MODE: 'NONE', MIZZEN_GATEWAY_PORT_OFFSET: '0' },
});

function listeners(): Map<string, any> {
  const g = generatorFor(pushFromYaml(SERVICES, GATEWAY));
  return new Map(
    g.generate(gw, TypeUrl.LISTENER, []).map((l) => [String(l.name), roundTrip(TypeUrl.LISTENER, l)]),
  );
}

const common = (chain: any): any => chain.transportSocket.typedConfig.commonTlsContext;

test('HTTPS servers sharing a port: one chain per host by SNI, each with its own credential and TLS params', () => {
  const l = listeners().get('0.0.0.0_443');
  assert.equal(l.listenerFilters[0].name, 'envoy.filters.listener.tls_inspector');
  const [a, b, nginx] = l.filterChains;
  assert.deepEqual(a.filterChainMatch.serverNames, ['a.example.com']);
  assert.deepEqual(
    common(a).tlsCertificateSdsSecretConfigs.map((s: any) => s.name),
    ['kubernetes://a-cred'],
  );
  assert.deepEqual(common(a).alpnProtocols, ['h2', 'http/1.1']);
  assert.deepEqual(common(a).tlsParams, {
    tlsMinimumProtocolVersion: 'TLSv1_3',
    cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256'],
  });
  assert.equal(a.transportSocket.typedConfig.requireClientCertificate, undefined);
  assert.deepEqual(b.filterChainMatch.serverNames, ['b.example.com']);
  assert.deepEqual(b.transportSocket.typedConfig.requireClientCertificate, { value: true });
  assert.deepEqual(common(b).combinedValidationContext, {
    defaultValidationContext: { matchSubjectAltNames: [{ exact: 'client.example.com' }] },
    validationContextSdsSecretConfig: {
      name: 'kubernetes://b-cred-cacert',
      sdsConfig: { ads: {}, resourceApiVersion: 'V3' },
    },
  });
  // PASSTHROUGH: SNI picks a tcp_proxy, no TLS termination.
  assert.deepEqual(nginx.filterChainMatch.serverNames, ['nginx.example.com']);
  assert.equal(nginx.transportSocket, undefined);
  assert.equal(nginx.filters.at(-1).typedConfig.cluster, 'outbound|443||nginx.default.svc.cluster.local');
});

test('MUTUAL from files; TLS termination with tcp rules; weighted TCP with the DestinationRule idle timeout', () => {
  const ls = listeners();
  const files = ls.get('0.0.0.0_8443').filterChains[0];
  assert.deepEqual(files.filterChainMatch ?? {}, {});
  assert.deepEqual(common(files).tlsCertificates, [
    { certificateChain: { filename: '/certs/tls.crt' }, privateKey: { filename: '/certs/tls.key' } },
  ]);
  assert.deepEqual(common(files).validationContext, { trustedCa: { filename: '/certs/ca.crt' } });
  assert.equal(common(files).tlsParams.tlsMaximumProtocolVersion, 'TLSv1_2');

  const term = ls.get('0.0.0.0_9443').filterChains[0];
  assert.deepEqual(term.filterChainMatch.serverNames, ['echo.example.com']);
  assert.equal(common(term).alpnProtocols, undefined);
  assert.equal(
    term.filters.at(-1).typedConfig.cluster,
    'outbound|9000|v1|tcp-echo.default.svc.cluster.local',
  );

  const tcp = ls.get('0.0.0.0_31400');
  assert.equal(tcp.listenerFilters, undefined);
  const proxy = tcp.filterChains[0].filters.at(-1).typedConfig;
  assert.deepEqual(proxy.weightedClusters.clusters, [
    { name: 'outbound|9000|v1|tcp-echo.default.svc.cluster.local', weight: 80 },
    { name: 'outbound|9000|v2|tcp-echo.default.svc.cluster.local', weight: 20 },
  ]);
  assert.deepEqual(proxy.idleTimeout, { seconds: 30 });
});

test('SDS secrets: tls.crt/tls.key, the older cert/key/cacert keys, base64 data, a separate -cacert Secret', () => {
  const g = generatorFor(pushFromYaml(SERVICES, GATEWAY));
  const get = (name: string): any => {
    const r = g.generate(gw, TypeUrl.SECRET, [name]);
    return r.length ? roundTrip(TypeUrl.SECRET, r[0]) : null;
  };
  const text = (b: any): string => Buffer.from(b).toString();
  const a = get('kubernetes://a-cred');
  assert.equal(text(a.tlsCertificate.certificateChain.inlineBytes), 'A-CERT');
  assert.equal(get('kubernetes://a-cred-cacert'), null, 'no CA in a-cred');
  const b = get('kubernetes://b-cred');
  assert.equal(text(b.tlsCertificate.privateKey.inlineBytes), 'B-KEY');
  assert.equal(text(get('kubernetes://b-cred-cacert').validationContext.trustedCa.inlineBytes), 'B-CA');
  assert.equal(text(get('kubernetes://c-cred').tlsCertificate.certificateChain.inlineBytes), 'C-CERT');
  assert.equal(
    text(get('kubernetes://c-cred-cacert').validationContext.trustedCa.inlineBytes),
    'SEPARATE-CA',
  );
  assert.equal(get('kubernetes://missing'), null);
});

test('a changed Secret changes the SDS resource; ISTIO_MUTUAL servers wait for the security issue', () => {
  const rotated = GATEWAY.replace('A-CERT', 'A-CERT-2');
  const g = generatorFor(pushFromYaml(SERVICES, rotated));
  const s = roundTrip(TypeUrl.SECRET, g.generate(gw, TypeUrl.SECRET, ['kubernetes://a-cred'])[0]) as any;
  assert.equal(Buffer.from(s.tlsCertificate.certificateChain.inlineBytes).toString(), 'A-CERT-2');
  const mesh = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mesh-gw }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 15443, name: tls, protocol: TLS }
      hosts: ["*"]
      tls: { mode: ISTIO_MUTUAL }
`;
  const names = generatorFor(pushFromYaml(SERVICES, mesh))
    .generate(gw, TypeUrl.LISTENER, [])
    .map((l) => l.name);
  assert.ok(!names.includes('0.0.0.0_15443'));
});

test('HTTP2 and GRPC servers are HTTP servers: an HTTP connection manager with the port route config', () => {
  const grpcGw = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: grpc-gw }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 9090, name: grpc, protocol: GRPC }
      hosts: ["*"]
    - port: { number: 8081, name: http2, protocol: HTTP2 }
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: grpc }
spec:
  hosts: ["*"]
  gateways: [grpc-gw]
  http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }]
`;
  const g = generatorFor(pushFromYaml(SERVICES, grpcGw));
  const ls = new Map(
    g.generate(gw, TypeUrl.LISTENER, []).map((l) => [String(l.name), roundTrip(TypeUrl.LISTENER, l)]),
  );
  for (const port of [9090, 8081]) {
    const l = ls.get(`0.0.0.0_${port}`) as any;
    const hcm = l.filterChains[0].filters[0];
    assert.equal(hcm.name, 'envoy.filters.network.http_connection_manager');
    assert.equal(hcm.typedConfig.rds.routeConfigName, `http.${port}`);
    const rc = roundTrip(TypeUrl.ROUTE, g.generate(gw, TypeUrl.ROUTE, [`http.${port}`])[0]) as any;
    assert.equal(
      rc.virtualHosts[0].routes[0].route.cluster,
      'outbound|8000||httpbin.default.svc.cluster.local',
    );
  }
});

test("a credentialName written with Istio's kubernetes:// prefix is not prefixed twice", () => {
  assert.equal(sdsName('a-cred'), 'kubernetes://a-cred');
  assert.equal(sdsName('kubernetes://a-cred'), 'kubernetes://a-cred');
});
