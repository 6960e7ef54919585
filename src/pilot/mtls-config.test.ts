// PeerAuthentication precedence, inbound mTLS chains, DestinationRule tls and auto mTLS in the generated config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';

const pa = (ns: string, name: string, spec: string, created = '2024-01-01T00:00:00Z'): string =>
  `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ${name}, namespace: ${ns}, creationTimestamp: "${created}" }
spec: ${spec}
`;

const MESH = [
  `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: foo }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000, targetPort: 80 }, { name: tcp, port: 9000 }] }
`,
  `apiVersion: v1
kind: Pod
metadata: { name: httpbin-0, namespace: foo, labels: { app: httpbin, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: httpbin, containers: [{ name: httpbin, ports: [{ containerPort: 80 }] }] }
status: { phase: Running, podIP: 10.0.0.1 }
`,
  `apiVersion: v1
kind: Pod
metadata: { name: legacy-0, namespace: foo, labels: { app: httpbin } }
spec: { serviceAccountName: legacy, containers: [{ name: httpbin, ports: [{ containerPort: 80 }] }] }
status: { phase: Running, podIP: 10.0.0.2 }
`,
];

const httpbin = proxyRef({ ip: '10.0.0.1', name: 'httpbin-0', namespace: 'foo', labels: { app: 'httpbin' } });
const client = proxyRef({ ip: '10.0.0.9', name: 'sleep-0', namespace: 'foo', labels: { app: 'sleep' } });

/** The inbound mode of httpbin's port 80 as the generated chains express it. */
function inboundMode(...extra: string[]): string {
  const g = generatorFor(pushFromYaml([...MESH, ...extra].join('---\n')));
  const l = g.generate(httpbin, TypeUrl.LISTENER, []).find((x) => x.name === 'virtualInbound')!;
  roundTrip(TypeUrl.LISTENER, l);
  const chains = (l.filterChains as any[]).filter((c) => c.filterChainMatch?.destinationPort?.value === 80);
  const tls = chains.filter((c) => c.transportSocket);
  if (tls.length === 0) return 'DISABLE';
  return chains.length === 1 ? 'STRICT' : 'PERMISSIVE';
}

test('PeerAuthentication precedence: workload (port first) over namespace over mesh; UNSET inherits; oldest wins', () => {
  const cases: Array<[string, string[], string]> = [
    ['no policy', [], 'PERMISSIVE'],
    ['mesh STRICT', [pa('istio-system', 'default', '{ mtls: { mode: STRICT } }')], 'STRICT'],
    [
      'namespace PERMISSIVE over mesh STRICT',
      [
        pa('istio-system', 'default', '{ mtls: { mode: STRICT } }'),
        pa('foo', 'default', '{ mtls: { mode: PERMISSIVE } }'),
      ],
      'PERMISSIVE',
    ],
    [
      'namespace UNSET inherits mesh STRICT',
      [
        pa('istio-system', 'default', '{ mtls: { mode: STRICT } }'),
        pa('foo', 'default', '{ mtls: { mode: UNSET } }'),
      ],
      'STRICT',
    ],
    [
      'workload DISABLE over namespace STRICT',
      [
        pa('foo', 'default', '{ mtls: { mode: STRICT } }'),
        pa('foo', 'httpbin', '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: DISABLE } }'),
      ],
      'DISABLE',
    ],
    [
      'port-level DISABLE over the workload STRICT',
      [
        pa(
          'foo',
          'httpbin',
          '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT }, portLevelMtls: { "80": { mode: DISABLE } } }',
        ),
      ],
      'DISABLE',
    ],
    [
      'port-level on another port leaves this one to the workload mode',
      [
        pa(
          'foo',
          'httpbin',
          '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT }, portLevelMtls: { "81": { mode: DISABLE } } }',
        ),
      ],
      'STRICT',
    ],
    [
      'the oldest namespace policy wins',
      [
        pa('foo', 'b-new', '{ mtls: { mode: DISABLE } }', '2025-01-01T00:00:00Z'),
        pa('foo', 'a-old', '{ mtls: { mode: STRICT } }', '2023-01-01T00:00:00Z'),
      ],
      'STRICT',
    ],
    ['other namespaces do not count', [pa('bar', 'default', '{ mtls: { mode: STRICT } }')], 'PERMISSIVE'],
  ];
  for (const [name, extra, want] of cases) assert.equal(inboundMode(...extra), want, name);
});

test('PERMISSIVE chains: mTLS only for TLS with Istio ALPN, plaintext for the rest; the server requires a client certificate', () => {
  const g = generatorFor(pushFromYaml(MESH.join('---\n')));
  const l = g.generate(httpbin, TypeUrl.LISTENER, []).find((x) => x.name === 'virtualInbound')!;
  const [mtls, plain] = (l.filterChains as any[]).filter(
    (c) => c.filterChainMatch?.destinationPort?.value === 80,
  );
  assert.equal(mtls.filterChainMatch.transportProtocol, 'tls');
  assert.ok(mtls.filterChainMatch.applicationProtocols.includes('istio'));
  const ctx = mtls.transportSocket.typedConfig;
  assert.deepEqual(ctx.requireClientCertificate, { value: true });
  assert.equal(ctx.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name, 'default');
  assert.equal(
    ctx.commonTlsContext.combinedValidationContext.validationContextSdsSecretConfig.name,
    'ROOTCA',
  );
  assert.equal(plain.transportSocket, undefined);
  assert.equal(plain.filterChainMatch.transportProtocol, undefined);
});

function cluster(name: string, ...extra: string[]): any {
  const g = generatorFor(pushFromYaml([...MESH, ...extra].join('---\n')));
  const c = g.generate(client, TypeUrl.CLUSTER, []).find((x) => x.name === name)!;
  roundTrip(TypeUrl.CLUSTER, c);
  return { c, g };
}

test('auto mTLS: Istio mutual TLS per endpoint with a sidecar, SANs from the service accounts, plaintext otherwise', () => {
  const { c, g } = cluster('outbound|8000||httpbin.foo.svc.cluster.local');
  const [istio, plain] = c.transportSocketMatches;
  assert.equal(istio.name, 'tlsMode-istio');
  const ctx = istio.transportSocket.typedConfig;
  assert.equal(ctx.sni, 'outbound_.8000_._.httpbin.foo.svc.cluster.local');
  assert.deepEqual(ctx.commonTlsContext.alpnProtocols, ['istio-peer-exchange', 'istio']);
  assert.deepEqual(
    ctx.commonTlsContext.combinedValidationContext.defaultValidationContext.matchSubjectAltNames.map(
      (m: any) => m.exact,
    ),
    ['spiffe://cluster.local/ns/foo/sa/httpbin', 'spiffe://cluster.local/ns/foo/sa/legacy'],
  );
  assert.equal(plain.name, 'tlsMode-disabled');
  const cla = g.generate(client, TypeUrl.ENDPOINT, ['outbound|8000||httpbin.foo.svc.cluster.local'])[0];
  const byIp = new Map(
    cla.endpoints[0].lbEndpoints.map((e: any) => [e.endpoint.address.socketAddress.address, e]),
  );
  assert.ok((byIp.get('10.0.0.1') as any).metadata.filterMetadata['envoy.transport_socket_match']);
  assert.equal((byIp.get('10.0.0.2') as any).metadata, undefined, 'no sidecar: plaintext');
});

test('auto mTLS sends plaintext to an endpoint whose PeerAuthentication disables mTLS on that port', () => {
  const g = generatorFor(
    pushFromYaml(
      [
        ...MESH,
        pa(
          'foo',
          'httpbin',
          '{ selector: { matchLabels: { app: httpbin } }, portLevelMtls: { "80": { mode: DISABLE } } }',
        ),
      ].join('---\n'),
    ),
  );
  const cla = g.generate(client, TypeUrl.ENDPOINT, [
    'outbound|8000||httpbin.foo.svc.cluster.local',
  ])[0] as any;
  for (const e of cla.endpoints[0].lbEndpoints) assert.equal(e.metadata, undefined);
});

test('DestinationRule tls: ISTIO_MUTUAL and DISABLE at top level, per port and per subset override auto mTLS', () => {
  const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: foo }
spec:
  host: httpbin.foo.svc.cluster.local
  trafficPolicy:
    tls: { mode: ISTIO_MUTUAL }
    portLevelSettings: [{ port: { number: 9000 }, tls: { mode: DISABLE } }]
  subsets:
  - name: v1
    labels: { app: httpbin }
    trafficPolicy: { tls: { mode: DISABLE } }
`;
  const top = cluster('outbound|8000||httpbin.foo.svc.cluster.local', dr).c;
  assert.equal(top.transportSocketMatches, undefined);
  assert.equal(
    top.transportSocket.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name,
    'default',
  );
  const port = cluster('outbound|9000||httpbin.foo.svc.cluster.local', dr).c;
  assert.equal(port.transportSocket, undefined);
  assert.equal(port.transportSocketMatches, undefined);
  const subset = cluster('outbound|8000|v1|httpbin.foo.svc.cluster.local', dr).c;
  assert.equal(subset.transportSocket, undefined);
  assert.equal(subset.transportSocketMatches, undefined);
});

test('a proxy standing in for a pod without a sidecar never sends Istio mutual TLS and serves no inbound', () => {
  const legacy = proxyRef({
    ip: '10.0.0.8',
    name: 'sleep-0',
    namespace: 'legacy',
    labels: { app: 'sleep' },
    metadata: { MIZZEN_NO_SIDECAR: true },
  });
  const g = generatorFor(pushFromYaml(MESH.join('---\n')));
  const c = g
    .generate(legacy, TypeUrl.CLUSTER, [])
    .find((x) => x.name === 'outbound|8000||httpbin.foo.svc.cluster.local')!;
  assert.equal(c.transportSocketMatches, undefined);
  assert.equal(c.transportSocket, undefined);
  assert.ok(!g.generate(legacy, TypeUrl.CLUSTER, []).some((x) => String(x.name).startsWith('inbound|')));
});

/** The passthrough chains of httpbin's virtualInbound: `port` ('' = any port) → mode as the chains say. */
function passthroughModes(...extra: string[]): Map<string, string> {
  const g = generatorFor(pushFromYaml([...MESH, ...extra].join('---\n')));
  const l = g.generate(httpbin, TypeUrl.LISTENER, []).find((x) => x.name === 'virtualInbound')!;
  roundTrip(TypeUrl.LISTENER, l);
  const byPort = new Map<string, any[]>();
  for (const c of l.filterChains as any[]) {
    const toPassthrough = c.filters.some(
      (f: any) => f.typedConfig?.statPrefix === 'InboundPassthroughCluster',
    );
    if (!toPassthrough) continue;
    const port = String(c.filterChainMatch?.destinationPort?.value ?? '');
    byPort.set(port, [...(byPort.get(port) ?? []), c]);
  }
  const out = new Map<string, string>();
  for (const [port, chains] of byPort) {
    const tls = chains.filter((c) => c.transportSocket);
    out.set(port, tls.length === 0 ? 'DISABLE' : chains.length === 1 ? 'STRICT' : 'PERMISSIVE');
  }
  return out;
}

test('inbound passthrough (ports no service declares) follows PeerAuthentication, as istiod ForPassthrough', () => {
  assert.deepEqual([...passthroughModes()], [['', 'PERMISSIVE']]);
  assert.deepEqual(
    [...passthroughModes(pa('foo', 'default', '{ mtls: { mode: STRICT } }'))],
    [['', 'STRICT']],
    'namespace STRICT refuses plaintext on undeclared ports too',
  );
  // portLevelMtls on an undeclared port gets its own chain; on a declared port (80) it does not.
  assert.deepEqual(
    [
      ...passthroughModes(
        pa(
          'foo',
          'httpbin',
          '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT }, portLevelMtls: { "9090": { mode: DISABLE }, "80": { mode: PERMISSIVE } } }',
        ),
      ),
    ],
    [
      ['9090', 'DISABLE'],
      ['', 'STRICT'],
    ],
  );
});

test('a captured pod without a sidecar (pod network mode) gets outbound listeners only, never virtualInbound', () => {
  const g = generatorFor(pushFromYaml(MESH.join('---\n')));
  const names = (md: Record<string, unknown>): string[] =>
    g
      .generate(
        proxyRef({
          ip: '10.0.0.8',
          name: 'sleep-0',
          namespace: 'legacy',
          metadata: { MIZZEN_NO_SIDECAR: true, ...md },
        }),
        TypeUrl.LISTENER,
        [],
      )
      .map((l) => String(l.name));
  const captured = names({ INTERCEPTION_MODE: 'REDIRECT' });
  assert.ok(captured.includes('virtualOutbound'), captured.join());
  assert.ok(captured.includes('0.0.0.0_8000'), captured.join());
  assert.ok(!captured.includes('virtualInbound'), captured.join());
  assert.deepEqual(names({ INTERCEPTION_MODE: 'NONE' }), ['10.0.0.8_15001']);
});
