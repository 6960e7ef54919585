// The graph model from metric increases: reporters, versions in their service box, mTLS, errors, p99,
// the configured vs observed split, ServiceEntry hosts and callers without a sidecar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesIncrease } from './increase.js';
import { bucketQuantile, buildGraph } from './graph-model.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

function req(
  reporter: string,
  src: string,
  dstWorkload: string,
  version: string,
  n: number,
  extra: Record<string, string> = {},
): SeriesIncrease {
  return {
    name: 'istio_requests_total',
    labels: {
      reporter,
      source_workload: src,
      source_workload_namespace: 'default',
      destination_workload: dstWorkload,
      destination_workload_namespace: 'default',
      destination_version: version,
      destination_service: REVIEWS,
      request_protocol: 'http',
      response_code: '200',
      connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
      ...extra,
    },
    increase: n,
  };
}

test('edges per caller → version, inside the service box; the destination reporter wins; mTLS lock', () => {
  const g = buildGraph(
    {
      seconds: 10,
      series: [
        req('source', 'productpage-v1', 'reviews-v1', 'v1', 30),
        req('destination', 'productpage-v1', 'reviews-v1', 'v1', 30),
        req('destination', 'productpage-v1', 'reviews-v3', 'v3', 10, { response_code: '503' }),
        req('destination', 'productpage-v1', 'reviews-v3', 'v3', 10),
      ],
    },
    [{ host: REVIEWS, namespace: 'default', kind: 'service' }],
    [],
  );
  const v1 = g.edges.find((e) => e.target === 'wl:default/reviews-v1')!;
  assert.equal(v1.source, 'wl:default/productpage-v1');
  assert.equal(v1.requests, 30, 'not double counted across reporters');
  assert.equal(v1.rps, 3);
  assert.equal(v1.mtls, true);
  assert.equal(v1.protocol, 'http');
  const v3 = g.edges.find((e) => e.target === 'wl:default/reviews-v3')!;
  assert.equal(v3.errorRate, 0.5);
  const box = g.nodes.find((n) => n.id === `svc:${REVIEWS}`)!;
  assert.equal(box.kind, 'service');
  assert.equal(g.nodes.find((n) => n.id === 'wl:default/reviews-v3')?.parent, box.id);
  assert.equal(g.nodes.find((n) => n.id === 'wl:default/reviews-v3')?.version, 'v3');
});

test('source-only edges have no lock; plain text at the destination has none either', () => {
  const g = buildGraph(
    {
      seconds: 1,
      series: [
        req('source', 'a', 'reviews-v1', 'v1', 5),
        req('destination', 'b', 'reviews-v1', 'v1', 5, { connection_security_policy: 'none' }),
      ],
    },
    [],
    [],
  );
  assert.deepEqual(
    g.edges.map((e) => e.mtls),
    [false, false],
  );
});

test('weighted route: configured weight and observed share per version, and on the service box', () => {
  const g = buildGraph(
    {
      seconds: 60,
      series: [
        req('destination', 'productpage-v1', 'reviews-v1', 'v1', 45),
        req('destination', 'productpage-v1', 'reviews-v3', 'v3', 55),
      ],
    },
    [],
    [{ host: REVIEWS, resource: 'VirtualService default/reviews', weights: { v1: 50, v3: 50 } }],
  );
  const share = Object.fromEntries(g.edges.map((e) => [e.target, [e.configuredWeight, e.observedShare]]));
  assert.deepEqual(share['wl:default/reviews-v1'], [50, 45]);
  assert.deepEqual(share['wl:default/reviews-v3'], [50, 55]);
  const box = g.nodes.find((n) => n.id === `svc:${REVIEWS}`)!;
  assert.deepEqual(box.split?.configured, { v1: 50, v3: 50 });
  assert.deepEqual(box.split?.observed, { v1: 45, v3: 55 });
});

test('gateways, callers without a sidecar, ServiceEntry hosts and idle services', () => {
  const g = buildGraph(
    {
      seconds: 1,
      series: [
        req('destination', 'unknown', 'productpage-v1', 'v1', 1),
        req('source', 'istio-ingressgateway', 'productpage-v1', 'v1', 2),
        {
          name: 'istio_requests_total',
          labels: {
            reporter: 'source',
            source_workload: 'sleep',
            source_workload_namespace: 'default',
            destination_service: 'httpbin.org',
            destination_workload: 'unknown',
            response_code: '200',
          },
          increase: 4,
        },
      ],
    },
    [
      { host: 'httpbin.org', namespace: 'default', kind: 'serviceentry' },
      { host: 'ratings.default.svc.cluster.local', namespace: 'default', kind: 'service' },
    ],
    [],
  );
  const kind = Object.fromEntries(g.nodes.map((n) => [n.id, n.kind]));
  assert.equal(kind['unknown'], 'unknown');
  assert.equal(kind['wl:default/istio-ingressgateway'], 'gateway');
  assert.equal(kind['svc:httpbin.org'], 'serviceentry');
  assert.ok(g.edges.some((e) => e.source === 'wl:default/sleep' && e.target === 'svc:httpbin.org'));
  assert.equal(g.nodes.find((n) => n.id === 'svc:ratings.default.svc.cluster.local')?.idle, true);
  assert.equal(g.nodes.find((n) => n.id === 'svc:httpbin.org')?.idle, false);
});

test('p99 from the duration buckets, interpolated inside the bucket', () => {
  const b = (le: string, n: number): SeriesIncrease => ({
    name: 'istio_request_duration_milliseconds_bucket',
    labels: { ...req('destination', 'a', 'reviews-v1', 'v1', 0).labels, le },
    increase: n,
  });
  const g = buildGraph(
    {
      seconds: 1,
      series: [req('destination', 'a', 'reviews-v1', 'v1', 100), b('10', 50), b('100', 100), b('+Inf', 100)],
    },
    [],
    [],
  );
  assert.equal(g.edges[0].p99Ms, 98.2);
  assert.equal(bucketQuantile(0.99, new Map()), null);
  assert.equal(
    bucketQuantile(
      0.5,
      new Map([
        ['+Inf', 4],
        ['5', 1],
      ]),
    ),
    5,
    'beyond the last finite bucket: its bound',
  );
});
