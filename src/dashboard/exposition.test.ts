// The exposition parser: labelled histogram series stay apart, escapes, unrelated families skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExposition, parseSampleLine } from './exposition.js';

const TEXT = `# HELP istio_requests_total Total requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",source_workload="productpage-v1",response_code="200"} 12
istio_requests_total{reporter="destination",source_workload="productpage-v1",response_code="503"} 1
# TYPE istio_request_duration_milliseconds histogram
istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="5"} 3
istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="+Inf"} 4
istio_request_duration_milliseconds_bucket{reporter="source",response_code="503",le="5"} 1
istio_request_duration_milliseconds_sum{reporter="source",response_code="200"} 22
envoy_cluster_upstream_rq_total{cluster_name="x"} 9
`;

test('keeps the graph families, each labelled histogram series apart', () => {
  const s = parseExposition(TEXT);
  assert.equal(s.length, 5);
  assert.deepEqual(
    s
      .filter((x) => x.name === 'istio_request_duration_milliseconds_bucket')
      .map((x) => [x.labels.response_code, x.labels.le, x.value]),
    [
      ['200', '5', 3],
      ['200', '+Inf', 4],
      ['503', '5', 1],
    ],
  );
  assert.equal(s[1].labels.response_code, '503');
});

test('escaped label values and odd lines', () => {
  assert.deepEqual(parseSampleLine('m{a="x\\"y\\\\z",b="1"} 2.5 1700000000'), {
    name: 'm',
    labels: { a: 'x"y\\z', b: '1' },
    value: 2.5,
  });
  assert.deepEqual(parseSampleLine('m 7'), { name: 'm', labels: {}, value: 7 });
  assert.equal(parseSampleLine('m{a=1} 2'), null);
  assert.equal(parseSampleLine('m{a="1"} x'), null);
  assert.equal(parseExposition('garbage here\n{', null).length, 0);
});
