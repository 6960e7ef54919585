// Istio's distributed tracing task on a real local mesh (`mizzen up examples/bookinfo -d --network host`):
// a Zipkin v2 collector written here, on loopback, receives the proxies' spans through a ServiceEntry,
// as Istio's `extensionProviders: zipkin` + Telemetry `tracing` configure them. One request through the
// gateway is one trace covering gateway → productpage → reviews → ratings with parent/child links and
// Istio's and Envoy's tags; a namespace Telemetry overrides the root one; 0 % sampling reports nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { HttpCollector, type ReceivedSpan } from '../../src/proxy/tracing/test-collectors.js';
import {
  apply,
  applyYaml,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  request,
  runState,
  EXAMPLES,
  type Mesh,
} from './mesh.js';

const NET = 'bookinfo/networking/';

type ZSpan = ReceivedSpan;

function meshConfig(zipkinPort: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    accessLogFile: /dev/stdout
    extensionProviders:
    - name: zipkin
      zipkin:
        service: zipkin.istio-system.svc.cluster.local
        port: 9411
    - name: otel
      opentelemetry:
        service: otel-collector.istio-system.svc.cluster.local
        port: 4318
        http:
          path: /v1/traces
          timeout: 5s
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: zipkin
  namespace: istio-system
spec:
  hosts: [zipkin.istio-system.svc.cluster.local]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - number: 9411
    name: http-zipkin
    protocol: HTTP
  endpoints:
  - address: 127.0.0.1
    ports:
      http-zipkin: ${zipkinPort}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: otel-collector
  namespace: istio-system
spec:
  hosts: [otel-collector.istio-system.svc.cluster.local]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - number: 4318
    name: http-otlp
    protocol: HTTP
  endpoints:
  - address: 127.0.0.1
    ports:
      http-otlp: ${zipkinPort}
`;
}

function rootTelemetry(sampling: number, provider = 'zipkin'): string {
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
  - providers:
    - name: ${provider}
    randomSamplingPercentage: ${sampling}
    customTags:
      scope:
        literal:
          value: mesh
      user:
        header:
          name: end-user
          defaultValue: anonymous
      shell:
        environment:
          name: MIZZEN_TEST_NO_SUCH_VARIABLE
          defaultValue: none
`;
}

let mesh: Mesh | undefined;
const zipkin = new HttpCollector();

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

function gateway(rid: string, headers: Record<string, string> = {}): Promise<unknown> {
  return request(`http://127.0.0.1:${m().gatewayPort}/productpage`, {
    headers: { 'x-request-id': rid, ...headers },
  });
}

const by = (spans: ZSpan[], service: string, kind: string, cluster = ''): ZSpan | undefined =>
  spans.find(
    (s) =>
      s.localEndpoint.serviceName === service &&
      s.kind === kind &&
      (cluster === '' || s.tags['upstream_cluster'].includes(cluster)),
  );

const V3 = 'outbound|9080|v3|reviews.default.svc.cluster.local';

/**
 * The spans of one request from the gateway down to ratings through reviews v3, each found as the
 * child of the one before it (undefined where a hop or its parent link is missing). Bookinfo's
 * productpage retries a failed reviews call, so a trace may hold two reviews hops: following the links
 * picks the one that reached v3 instead of the first span of each kind.
 */
function reviewsV3Trace(spans: ZSpan[]): Record<string, ZSpan | undefined> {
  const gw = by(spans, 'istio-ingressgateway.istio-system', 'CLIENT');
  const ppIn = childOf(spans, gw, 'productpage.default', 'SERVER');
  const ppToReviews = childOf(spans, ppIn, 'productpage.default', 'CLIENT', V3);
  const ppToDetails = childOf(spans, ppIn, 'productpage.default', 'CLIENT', 'details');
  const dtIn = childOf(spans, ppToDetails, 'details.default', 'SERVER');
  const rvIn = childOf(spans, ppToReviews, 'reviews.default', 'SERVER');
  const rvToRatings = childOf(spans, rvIn, 'reviews.default', 'CLIENT', 'ratings');
  const raIn = childOf(spans, rvToRatings, 'ratings.default', 'SERVER');
  return { gw, ppIn, ppToReviews, ppToDetails, dtIn, rvIn, rvToRatings, raIn };
}

/** The span of `service`/`kind` (and cluster) whose parent is `parent`. */
const childOf = (
  spans: ZSpan[],
  parent: ZSpan | undefined,
  service: string,
  kind: string,
  cluster = '',
): ZSpan | undefined =>
  parent &&
  spans.find(
    (s) =>
      s.parentId === parent.id &&
      s.localEndpoint.serviceName === service &&
      s.kind === kind &&
      (cluster === '' || s.tags['upstream_cluster'].includes(cluster)),
  );

describe('Istio distributed tracing task on mizzen up (Zipkin)', { timeout: 600_000 }, () => {
  before(async () => {
    const port = await zipkin.listen();
    mesh = await newMesh();
    await meshUp(mesh, `${EXAMPLES}bookinfo`, ['--network', 'host']);
    await applyYaml(mesh, meshConfig(port));
    await applyYaml(mesh, rootTelemetry(100));
    // reviews v3 calls ratings: the trace then covers all four hops.
    await apply(mesh, `${NET}destination-rule-all.yaml`, `${NET}virtual-service-reviews-v3.yaml`);
  });

  after(async () => {
    await meshDown(mesh);
    zipkin.close();
  });

  it('one request through the gateway is one trace: gateway → productpage → reviews → ratings', async () => {
    let spans: ZSpan[] = [];
    let hops: ReturnType<typeof reviewsV3Trace> = {};
    // Until the tracing config and the reviews-v3 route have arrived, a request may not be traced yet,
    // or may reach ratings through reviews v2 (the default cluster): wait for a trace routed to v3.
    await eventually(
      'a traced request reaching ratings through reviews v3',
      async () => {
        const rid = randomUUID();
        await gateway(rid, { 'end-user': 'jason' });
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          spans = zipkin.ofRequest(rid);
          hops = reviewsV3Trace(spans);
          if (Object.values(hops).every(Boolean)) return true;
          await new Promise((r) => setTimeout(r, 250));
        }
        return false;
      },
      120_000,
      0,
      () => `spans: ${JSON.stringify(zipkin.spans.slice(-8))}`,
    );
    const { gw, ppToReviews, raIn } = hops;
    // One trace, 128-bit id, one span per hop and side.
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    assert.match(gw!.traceId, /^[0-9a-f]{32}$/);
    assert.equal(new Set(spans.map((s) => s.id)).size, spans.length, 'span ids are unique');
    // The gateway span is the root; the others were found through their parent links above.
    assert.equal(gw!.parentId, undefined, 'the gateway span is the root');
    // Envoy's and Istio's tags.
    const t = ppToReviews!.tags;
    assert.equal(t['component'], 'proxy');
    assert.equal(t['http.method'], 'GET');
    assert.match(t['http.url'], /^http:\/\/reviews:9080\/reviews\/0$/);
    assert.equal(t['http.status_code'], '200');
    assert.equal(t['response_flags'], '-');
    assert.match(t['upstream_cluster'], /^outbound\|9080\|v3\|reviews\.default\.svc\.cluster\.local$/);
    assert.equal(t['istio.canonical_service'], 'productpage');
    assert.equal(t['istio.canonical_revision'], 'v1');
    assert.equal(t['istio.namespace'], 'default');
    assert.equal(t['istio.mesh_id'], 'cluster.local');
    assert.equal(
      t['node_id'],
      runState(m()).pods.find((p) => p.workload === 'productpage-v1')!.sidecar.nodeId,
    );
    assert.equal(ppToReviews!.name, 'reviews.default.svc.cluster.local:9080/*');
    assert.equal(raIn!.tags['upstream_cluster'], 'inbound|9080||');
    // Envoy's http.url takes x-forwarded-proto (the app's plaintext request), not this hop's mTLS.
    assert.equal(raIn!.tags['http.url'], 'http://ratings:9080/ratings/0');
    assert.equal(gw!.tags['istio.canonical_service'], 'istio-ingressgateway');
    // Telemetry customTags: literal, request header, environment default.
    assert.equal(t['scope'], 'mesh');
    assert.equal(gw!.tags['user'], 'jason', 'the header the client sent');
    assert.equal(t['user'], 'anonymous', 'productpage sends end-user only for a signed-in user');
    assert.equal(t['shell'], 'none');
    assert.ok(raIn!.timestamp >= gw!.timestamp && raIn!.duration > 0);
  });

  it('a namespace Telemetry overrides the root one for that namespace only', async () => {
    await applyYaml(
      m(),
      `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: ns-tracing
  namespace: default
spec:
  tracing:
  - randomSamplingPercentage: 100
    customTags:
      scope:
        literal:
          value: namespace
`,
    );
    let spans: ZSpan[] = [];
    await eventually(
      'productpage spans tagged by the namespace Telemetry',
      async () => {
        const rid = randomUUID();
        await gateway(rid);
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          spans = zipkin.ofRequest(rid);
          const pp = by(spans, 'productpage.default', 'SERVER');
          if (pp && by(spans, 'istio-ingressgateway.istio-system', 'CLIENT'))
            return pp.tags['scope'] === 'namespace';
          await new Promise((r) => setTimeout(r, 250));
        }
        return false;
      },
      120_000,
      0,
    );
    assert.equal(by(spans, 'istio-ingressgateway.istio-system', 'CLIENT')!.tags['scope'], 'mesh');
    assert.equal(
      by(spans, 'productpage.default', 'SERVER')!.tags['user'],
      undefined,
      'the narrower entry replaces customTags',
    );
  });

  it('0 % sampling reports no span; x-envoy-force-trace still traces', async () => {
    await applyYaml(m(), rootTelemetry(0));
    await applyYaml(
      m(),
      `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: ns-tracing
  namespace: default
spec:
  tracing:
  - randomSamplingPercentage: 0
`,
    );
    // Each proxy reports its spans in order: once a forced request sent after an unsampled one has
    // reached the collector from every hop, the unsampled one's spans would have arrived before.
    const unsampledThenForced = async (n: number): Promise<{ unsampled: string[]; forced: string }> => {
      const unsampled: string[] = [];
      for (let i = 0; i < n; i++) {
        const rid = randomUUID();
        unsampled.push(rid);
        await gateway(rid);
      }
      const forced = randomUUID();
      await gateway(forced, { 'x-envoy-force-trace': 'true' });
      await eventually(
        'the forced request traced through every hop',
        () =>
          !!by(zipkin.ofRequest(forced), 'ratings.default', 'SERVER') &&
          !!by(zipkin.ofRequest(forced), 'istio-ingressgateway.istio-system', 'CLIENT'),
        60_000,
        250,
      );
      return { unsampled, forced };
    };
    await eventually(
      'an unsampled request without spans (the 0 % config has arrived)',
      async () => {
        const { unsampled } = await unsampledThenForced(1);
        return zipkin.ofRequest(unsampled[0]).length === 0;
      },
      120_000,
      0,
    );
    const { unsampled } = await unsampledThenForced(10);
    for (const rid of unsampled)
      assert.deepEqual(zipkin.ofRequest(rid), [], `request ${rid} was not sampled`);
  });

  it('an opentelemetry provider exports the same trace over OTLP/HTTP', async () => {
    await applyYaml(m(), rootTelemetry(100, 'otel'));
    await applyYaml(
      m(),
      `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: ns-tracing
  namespace: default
spec:
  tracing:
  - randomSamplingPercentage: 100
`,
    );
    let spans: ZSpan[] = [];
    await eventually(
      'a trace with OTLP spans from the gateway to ratings',
      async () => {
        const rid = randomUUID();
        await gateway(rid);
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          spans = zipkin.otlp.ofRequest(rid);
          // Every hop reported over OTLP: gateway, productpage (in, to details, to reviews), details,
          // reviews (in, to ratings), ratings.
          if (spans.length === 8) return true;
          await new Promise((r) => setTimeout(r, 250));
        }
        return false;
      },
      120_000,
      0,
      () => JSON.stringify(spans.map((s) => [s.localEndpoint.serviceName, s.kind])),
    );
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    const ppIn = by(spans, 'productpage.default', 'SERVER')!;
    assert.equal(ppIn.parentId, by(spans, 'istio-ingressgateway.istio-system', 'CLIENT')!.id);
    assert.equal(
      by(spans, 'reviews.default', 'SERVER')!.parentId,
      by(spans, 'productpage.default', 'CLIENT', 'reviews')!.id,
    );
  });
});
