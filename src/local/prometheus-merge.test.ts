// Istio's injector rules for metrics merging, applied to `mizzen up`'s pods and their targets.json rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meshPrometheusMerge, podScrapePlan, podScrapeTargets } from './prometheus-merge.js';

test('a sidecar pod is scraped at :15020; its prometheus.io annotations go to the agent', () => {
  assert.deepEqual(podScrapePlan({}, true, true), { proxy: 'merged', annotationsEnv: null, app: null });
  const p = podScrapePlan(
    { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/m' },
    true,
    true,
  );
  assert.equal(p.proxy, 'merged');
  assert.deepEqual(JSON.parse(p.annotationsEnv!), { scrape: 'true', path: '/m', port: '9102' });
  // Prometheus treats these spellings alike, and so does the injector.
  assert.deepEqual(JSON.parse(podScrapePlan({ 'prometheus-io/port': '9102' }, true, true).annotationsEnv!), {
    scrape: '',
    path: '',
    port: '9102',
  });
  // Already pointing at the agent (re-injected): nothing to pass on.
  assert.equal(podScrapePlan({ 'prometheus.io/port': '15020' }, true, true).annotationsEnv, null);
});

test('scrape "false", merge-metrics "false" and pods without a sidecar', () => {
  assert.deepEqual(podScrapePlan({ 'prometheus.io/scrape': 'false' }, true, true), {
    proxy: null,
    annotationsEnv: null,
    app: null,
  });
  assert.deepEqual(
    podScrapePlan(
      {
        'prometheus.istio.io/merge-metrics': 'false',
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9102',
      },
      true,
      true,
    ),
    { proxy: 'envoy', annotationsEnv: null, app: { port: 9102, path: '/metrics' } },
  );
  assert.deepEqual(
    podScrapePlan({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' }, false, true),
    {
      proxy: null,
      annotationsEnv: null,
      app: { port: 9102, path: '/metrics' },
    },
  );
  assert.equal(
    podScrapePlan({ 'prometheus.io/port': '9102' }, false, true).app,
    null,
    'scrape must say true',
  );
});

test('targets.json rows of a pod', () => {
  const pod = { name: 'a-1', namespace: 'ns', labels: { app: 'a' } };
  assert.deepEqual(podScrapeTargets(pod, '10.0.0.1', '10.0.0.1', podScrapePlan({}, true, true)), [
    {
      address: '10.0.0.1:15020',
      path: '/stats/prometheus',
      labels: { job: 'kubernetes-pods', namespace: 'ns', pod: 'a-1', app: 'a' },
    },
  ]);
  const legacy = podScrapePlan(
    { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/x' },
    false,
    true,
  );
  assert.deepEqual(
    podScrapeTargets(pod, '10.0.0.1', '10.0.0.1', legacy).map((t) => [t.address, t.path]),
    [['10.0.0.1:9102', '/x']],
  );
  // A sidecar pod that does not merge, in host network mode: Envoy's stats on the pod's address, the
  // app's own metrics on the app's.
  const unmerged = podScrapePlan(
    { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' },
    true,
    false,
  );
  assert.deepEqual(
    podScrapeTargets(pod, '127.1.0.5', '127.2.0.5', unmerged).map((t) => [t.address, t.labels.job]),
    [
      ['127.1.0.5:15090', 'envoy-stats'],
      ['127.2.0.5:9102', 'kubernetes-pods'],
    ],
  );
});

test('MeshConfig enablePrometheusMerge: false keeps the app scraped where its annotations say; the pod annotation still wins', () => {
  assert.equal(meshPrometheusMerge(undefined), true, "Istio's default");
  assert.equal(meshPrometheusMerge('accessLogFile: /dev/stdout\n'), true);
  assert.equal(meshPrometheusMerge('enablePrometheusMerge: false\n'), false);
  assert.equal(meshPrometheusMerge('enablePrometheusMerge: true\n'), true);
  assert.equal(meshPrometheusMerge('{unclosed'), true, 'unreadable text is the default');
  const annotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' };
  assert.deepEqual(podScrapePlan(annotations, true, false), {
    proxy: 'envoy',
    annotationsEnv: null,
    app: { port: 9102, path: '/metrics' },
  });
  const forced = podScrapePlan({ ...annotations, 'prometheus.istio.io/merge-metrics': 'true' }, true, false);
  assert.equal(forced.proxy, 'merged');
  assert.notEqual(forced.annotationsEnv, null);
});
