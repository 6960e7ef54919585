// Proxyless gRPC clients' cluster TLS, as Istio's grpcgen: DestinationRule ISTIO_MUTUAL becomes an
// UpstreamTlsContext over the bootstrap's certificate provider `default`, which grpc-js-xds's own
// cluster validator accepts; anything else stays plaintext, and config that needs more than that
// (STRICT destinations without a DestinationRule, SIMPLE/MUTUAL, PERMISSIVE sidecar servers) is
// warned in the server log, never silently served. The real client, agent and sidecar are in
// proxyless-grpc-mtls.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { TypeUrl } from '../xds/type-urls.js';
import { encodeResource, type CanonicalObject } from '../xds/protos.js';
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
spec: { serviceAccountName: helloworld, containers: [{ name: helloworld, ports: [{ containerPort: 50051 }] }] }
status: { phase: Running, podIP: 10.0.0.1 }
`;
const CLUSTER = 'outbound|50051||helloworld.foo.svc.cluster.local';
const client = proxyRef({
  ip: '10.0.0.9',
  name: 'client-0',
  namespace: 'foo',
  metadata: { GENERATOR: 'grpc' },
});
const STRICT = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`;
const dr = (tls: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: helloworld, namespace: foo }
spec: { host: helloworld.foo.svc.cluster.local, trafficPolicy: { tls: ${tls} } }
`;

function clusterFor(...extra: string[]): { cluster: CanonicalObject; warnings: string[] } {
  const warnings: string[] = [];
  setGeneratorWarningSink((m) => warnings.push(m));
  try {
    const c = generatorFor(pushFromYaml([MESH, ...extra].join('---\n'))).generate(client, TypeUrl.CLUSTER, [
      CLUSTER,
    ]);
    assert.equal(c.length, 1);
    return { cluster: c[0], warnings };
  } finally {
    setGeneratorWarningSink(null);
  }
}

interface GrpcSecurity {
  caCertificateProviderInstance: string;
  identityCertificateProviderInstance?: string;
  subjectAltNameMatchers: { exact?: string }[];
}

/** What grpc-js-xds's own CDS validator makes of the cluster, with `providers` in its bootstrap. */
function grpcDecode(
  cluster: CanonicalObject,
  providers: string[],
): { error?: string; security?: GrpcSecurity } {
  const require = createRequire(import.meta.url);
  const {
    ClusterResourceType,
  } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js');
  const certificateProviders = Object.fromEntries(providers.map((p) => [p, {}]));
  const r = ClusterResourceType.get().decode(
    { bootstrap: { certificateProviders } },
    encodeResource(TypeUrl.CLUSTER, cluster),
  );
  return { error: r.error, security: r.value?.securityUpdate };
}

test('proxyless gRPC: DestinationRule ISTIO_MUTUAL gives the certificate provider context gRPC accepts', () => {
  const { cluster, warnings } = clusterFor(dr('{ mode: ISTIO_MUTUAL }'), STRICT);
  assert.deepEqual(warnings, []);
  const got = grpcDecode(cluster, ['default']);
  assert.equal(got.error, undefined);
  assert.deepEqual(got.security, {
    caCertificateProviderInstance: 'default',
    identityCertificateProviderInstance: 'default',
    subjectAltNameMatchers: [
      { exact: 'spiffe://cluster.local/ns/foo/sa/helloworld', ignore_case: false, match_pattern: 'exact' },
    ],
  });
  // A client whose bootstrap has no such provider NACKs it: the TLS context is not optional for gRPC.
  assert.match(String(grpcDecode(cluster, []).error), /Unmatched .*instance_name: default/);
  // The deprecated fields older gRPC libraries read are sent too, as Istio does.
  const common = (cluster.transportSocket as any).typedConfig.commonTlsContext;
  assert.deepEqual(common.tlsCertificateCertificateProviderInstance, {
    instanceName: 'default',
    certificateName: 'default',
  });
  assert.deepEqual(common.combinedValidationContext.validationContextCertificateProviderInstance, {
    instanceName: 'default',
    certificateName: 'ROOTCA',
  });
});

test('proxyless gRPC: ISTIO_MUTUAL subjectAltNames replace the service accounts; sni is warned', () => {
  const { cluster, warnings } = clusterFor(
    dr('{ mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/foo/sa/other"], sni: x.example }'),
    STRICT,
  );
  assert.deepEqual(
    grpcDecode(cluster, ['default']).security?.subjectAltNameMatchers.map((m) => m.exact),
    ['spiffe://cluster.local/ns/foo/sa/other'],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /tls\.sni "x\.example" is not applied/);
});

test('proxyless gRPC: ISTIO_MUTUAL to a PERMISSIVE sidecar is warned (gRPC offers ALPN h2 only)', () => {
  const { cluster, warnings } = clusterFor(dr('{ mode: ISTIO_MUTUAL }'));
  assert.ok(cluster.transportSocket);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /client-0.*10\.0\.0\.1:50051 is PERMISSIVE.*STRICT/);
});

test('proxyless gRPC: plaintext otherwise; STRICT without a DestinationRule and SIMPLE are warned', () => {
  const plain = clusterFor();
  assert.equal(plain.cluster.transportSocket, undefined);
  assert.deepEqual(plain.warnings, []);
  assert.equal(grpcDecode(plain.cluster, []).error, undefined);

  const disabled = clusterFor(dr('{ mode: DISABLE }'), STRICT);
  assert.equal(disabled.cluster.transportSocket, undefined);
  assert.deepEqual(disabled.warnings, [], 'DISABLE is what the user asked for');

  const strict = clusterFor(STRICT);
  assert.equal(strict.cluster.transportSocket, undefined, 'no auto mTLS for gRPC clients, as Istio');
  assert.equal(strict.warnings.length, 1);
  assert.match(strict.warnings[0], /10\.0\.0\.1:50051 requires mutual TLS.*ISTIO_MUTUAL/);

  const simple = clusterFor(dr('{ mode: SIMPLE }'));
  assert.equal(simple.cluster.transportSocket, undefined);
  assert.equal(simple.warnings.length, 1);
  assert.match(simple.warnings[0], /tls mode SIMPLE is not applied/);
});
