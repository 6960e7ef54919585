// Proxyless gRPC clients get plaintext clusters (no xDS credentials yet): config that needs TLS for
// them is warned in the server log, never silently served as plaintext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { setGeneratorWarningSink } from './generator-warnings.js';
import { generatorFor, proxyRef, pushFromYaml } from './test-util.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: helloworld, namespace: foo }
spec: { selector: { app: helloworld }, ports: [{ name: grpc, port: 50051 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: helloworld-0, namespace: foo, labels: { app: helloworld, security.istio.io/tlsMode: istio } }
spec: { containers: [{ name: helloworld, ports: [{ containerPort: 50051 }] }] }
status: { phase: Running, podIP: 10.0.0.1 }
`;
const CLUSTER = 'outbound|50051||helloworld.foo.svc.cluster.local';
const client = proxyRef({
  ip: '10.0.0.9',
  name: 'client-0',
  namespace: 'foo',
  metadata: { GENERATOR: 'grpc' },
});

function warningsFor(extra: string): string[] {
  const got: string[] = [];
  setGeneratorWarningSink((m) => got.push(m));
  try {
    const c = generatorFor(pushFromYaml([MESH, extra].filter(Boolean).join('---\n'))).generate(
      client,
      TypeUrl.CLUSTER,
      [CLUSTER],
    );
    assert.equal(c.length, 1);
    assert.equal(c[0].transportSocket, undefined, 'plaintext: gRPC has no certificate provider from Mizzen');
  } finally {
    setGeneratorWarningSink(null);
  }
  return got;
}

test('proxyless gRPC: DestinationRule TLS and STRICT destinations are warned; plain PERMISSIVE is not', () => {
  assert.deepEqual(warningsFor(''), []);
  const dr = warningsFor(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: helloworld, namespace: foo }
spec: { host: helloworld.foo.svc.cluster.local, trafficPolicy: { tls: { mode: ISTIO_MUTUAL } } }
`);
  assert.equal(dr.length, 1);
  assert.match(dr[0], /client-0.*outbound\|50051\|\|helloworld.*ISTIO_MUTUAL is not applied/);
  const strict = warningsFor(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`);
  assert.equal(strict.length, 1);
  assert.match(strict[0], /10\.0\.0\.1:50051 requires mutual TLS.*refused/);
});
