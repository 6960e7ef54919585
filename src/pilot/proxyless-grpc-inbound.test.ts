// Proxyless gRPC servers' inbound listeners, as Istio's grpcgen: checked with grpc-js-xds's own LDS
// validator; STRICT (or auto-mTLS PERMISSIVE) requires client certificates, the rest is plaintext,
// and what gRPC cannot do is warned. The real server is in proxyless-grpc-mtls.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { TypeUrl } from '../xds/type-urls.js';
import { encodeResource, type CanonicalObject } from '../xds/protos.js';
import { setGeneratorWarningSink } from './generator-warnings.js';
import { generatorFor, proxyRef, pushFromYaml } from './test-util.js';

const mesh = (labels: string): string => `apiVersion: v1
kind: Service
metadata: { name: greeter, namespace: foo }
spec: { selector: { app: greeter }, ports: [{ name: grpc, port: 7070, targetPort: 50051 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: greeter-0, namespace: foo, labels: { app: greeter${labels} } }
spec: { serviceAccountName: greeter, containers: [{ name: greeter, ports: [{ containerPort: 50051 }] }] }
status: { phase: Running, podIP: 10.0.0.1 }
`;
const AUTO = ', security.istio.io/tlsMode: istio';
const pa = (mode: string): string => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: ${mode} } }
`;
const NAME = 'xds.istio.io/grpc/lds/inbound/10.0.0.1:50051';
const server = proxyRef({
  ip: '10.0.0.1',
  name: 'greeter-0',
  namespace: 'foo',
  metadata: { GENERATOR: 'grpc' },
});

function listenersFor(
  name: string,
  ...yaml: string[]
): { listeners: readonly CanonicalObject[]; warnings: string[] } {
  const warnings: string[] = [];
  setGeneratorWarningSink((m) => warnings.push(m));
  try {
    const listeners = generatorFor(pushFromYaml(yaml.join('---\n'))).generate(server, TypeUrl.LISTENER, [
      name,
    ]);
    return { listeners, warnings };
  } finally {
    setGeneratorWarningSink(null);
  }
}

/** grpc-js-xds's own verdict on the listener, with `providers` in its bootstrap. */
function grpcDecode(listener: CanonicalObject, providers: string[]): string | undefined {
  const require = createRequire(import.meta.url);
  // Registers gRPC's HTTP filters (router included), as an app's register() call does.
  require('@grpc/grpc-js-xds').register();
  const {
    ListenerResourceType,
  } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js');
  const r = ListenerResourceType.get().decode(
    { bootstrap: { certificateProviders: Object.fromEntries(providers.map((p) => [p, {}])) } },
    encodeResource(TypeUrl.LISTENER, listener),
  );
  return r.error;
}

test('proxyless gRPC server: STRICT requires a client certificate from the certificate provider', () => {
  const { listeners, warnings } = listenersFor(NAME, mesh(''), pa('STRICT'));
  assert.deepEqual(warnings, []);
  assert.equal(listeners.length, 1);
  const l = listeners[0] as any;
  assert.deepEqual(l.address.socketAddress, { address: '10.0.0.1', portValue: 50051 });
  assert.equal(l.filterChains.length, 1);
  const tls = l.filterChains[0].transportSocket.typedConfig;
  assert.equal(tls.requireClientCertificate.value, true);
  assert.equal(tls.commonTlsContext.tlsCertificateProviderInstance.instanceName, 'default');
  assert.equal(grpcDecode(l, ['default']), undefined);
  assert.match(String(grpcDecode(l, [])), /Unmatched .*instance_name: default/);
});

test('proxyless gRPC server: PERMISSIVE is STRICT for an auto-mTLS workload, else plaintext (warned when declared)', () => {
  const auto = listenersFor(NAME, mesh(AUTO));
  assert.ok((auto.listeners[0] as any).filterChains[0].transportSocket, 'tlsMode=istio: clients send mTLS');
  assert.deepEqual(auto.warnings, []);

  const plain = listenersFor(NAME, mesh(''));
  assert.equal((plain.listeners[0] as any).filterChains[0].transportSocket, undefined);
  assert.equal(grpcDecode(plain.listeners[0], []), undefined);
  assert.deepEqual(plain.warnings, [], 'the mesh default is not a declared PERMISSIVE');

  const declared = listenersFor(NAME, mesh(''), pa('PERMISSIVE'));
  assert.equal((declared.listeners[0] as any).filterChains[0].transportSocket, undefined);
  assert.equal(declared.warnings.length, 1);
  assert.match(declared.warnings[0], /PERMISSIVE is served as plaintext only/);

  const disabled = listenersFor(NAME, mesh(AUTO), pa('DISABLE'));
  assert.equal((disabled.listeners[0] as any).filterChains[0].transportSocket, undefined);
  assert.deepEqual(disabled.warnings, []);
});

test('proxyless gRPC server: unknown ports get no listener; AuthorizationPolicy is warned as not enforced', () => {
  const none = listenersFor('xds.istio.io/grpc/lds/inbound/10.0.0.1:9999', mesh(''));
  assert.equal(none.listeners.length, 0);
  assert.match(none.warnings[0], /no service selects this workload on port 9999/);

  const authz = listenersFor(
    NAME,
    mesh(''),
    pa('STRICT'),
    `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-all, namespace: foo }
spec: {}
`,
  );
  assert.equal(authz.listeners.length, 1);
  assert.equal(authz.warnings.length, 1);
  assert.match(authz.warnings[0], /AuthorizationPolicy foo\/deny-all is not enforced/);
});
