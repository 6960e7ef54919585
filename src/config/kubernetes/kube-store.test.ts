// KubernetesStore against a fake API server speaking the real list/watch protocol over HTTP on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../../api/test-util.js';
import { KubernetesStore } from './kube-store.js';
import { FakeApiServer, type ApiObject } from './fake-api-server.js';
import { watchedKinds } from './watched-kinds.js';

const VS = 'networking.istio.io/v1';

const vs = (subset: string, extra: ApiObject = {}): ApiObject => ({
  apiVersion: VS,
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }], ...extra },
});

const BASE: ApiObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default', labels: { 'istio-injection': 'enabled' } },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'reviews', namespace: 'default' },
    spec: { ports: [{ name: 'http', port: 9080 }], clusterIP: '10.96.0.7' },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'reviews-x1',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'reviews' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 9080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
  },
  // Not watched: only the `istio` ConfigMap of istio-system is (by field selector and namespace).
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'other', namespace: 'default' },
    data: { a: 'b' },
  },
  vs('v1'),
];

interface Harness {
  fake: FakeApiServer;
  store: KubernetesStore;
  logs: string[];
  close(): Promise<void>;
}

async function harness(opts: { skip?: string[]; objects?: ApiObject[] } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-kube-store-'));
  const fake = await new FakeApiServer().start(
    watchedKinds().filter((k) => !opts.skip?.includes(k.kind)),
    dir,
  );
  for (const o of opts.objects ?? BASE) fake.apply(o);
  const kc = new KubeConfig();
  kc.loadFromFile(fake.writeKubeconfig(dir));
  const logs: string[] = [];
  const store = new KubernetesStore({ kubeConfig: kc, log: (l) => logs.push(l), retryMs: 50 });
  return {
    fake,
    store,
    logs,
    close: async () => {
      await store.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const route = (h: Harness): unknown =>
  (h.store.snapshot().get('VirtualService', 'default', 'reviews')?.spec as any)?.http[0].route[0].destination
    .subset;

test('lists every watched kind, then watches each from its list resourceVersion with bookmarks and the token', async () => {
  const h = await harness();
  try {
    await h.store.start();
    const snap = h.store.snapshot();
    assert.equal(snap.version, 1);
    assert.ok(snap.get('Service', 'default', 'reviews'));
    assert.ok(snap.get('EndpointSlice', 'default', 'reviews-x1'));
    assert.ok(snap.get('Namespace', '', 'default'));
    assert.ok(snap.get('ConfigMap', 'istio-system', 'istio'));
    assert.equal(snap.get('ConfigMap', 'default', 'other'), undefined);
    assert.equal(route(h), 'v1');
    // The API's bookkeeping is not config: a status write must not look like a change.
    assert.equal(snap.get('VirtualService', 'default', 'reviews')!.metadata.resourceVersion, undefined);

    const watches = h.fake.watchRequests();
    assert.equal(watches.length, watchedKinds().length);
    const listRv = String(h.fake.resourceVersion);
    for (const w of watches) {
      assert.equal(w.query.get('allowWatchBookmarks'), 'true', w.path);
      assert.equal(w.authorization, 'Bearer fake-token');
    }
    const vsWatch = watches.find((w) => w.path === '/apis/networking.istio.io/v1/virtualservices')!;
    // Every status write bumps the resourceVersion; the watch started from the list's.
    assert.ok(Number(vsWatch.query.get('resourceVersion')) <= Number(listRv));
    const cm = watches.find((w) => w.path === '/api/v1/namespaces/istio-system/configmaps')!;
    assert.equal(cm.query.get('fieldSelector'), 'metadata.name=istio');

    // A watched change becomes one new snapshot with one event.
    const changes: string[] = [];
    h.store.subscribe((c) => changes.push(c.events.map((e) => `${e.type} ${[...c.kinds].join()}`).join()));
    h.fake.apply({
      apiVersion: VS,
      kind: 'DestinationRule',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
    });
    await waitFor('the DestinationRule', () =>
      h.store.snapshot().get('DestinationRule', 'default', 'reviews'),
    );
    assert.deepEqual(changes, ['added DestinationRule']);
  } finally {
    await h.close();
  }
});

test('an invalid VirtualService is rejected with its field, the last good one keeps serving, and status says so', async () => {
  const h = await harness();
  try {
    await h.store.start();
    // The valid one is marked accepted through the status subresource.
    await waitFor(
      'status of the valid VirtualService',
      () =>
        h.fake.get(VS, 'VirtualService', 'default', 'reviews')?.status?.conditions?.[0]?.status === 'True' ||
        undefined,
    );
    let st = h.fake.get(VS, 'VirtualService', 'default', 'reviews')!.status;
    assert.deepEqual(st.validationMessages, []);
    assert.equal(st.observedGeneration, 1);
    const patch = h.fake.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(
      patch.path,
      '/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews/status',
    );
    assert.equal(patch.contentType, 'application/merge-patch+json');

    const versionBefore = h.store.snapshot().version;
    h.fake.apply(vs('v2', { htp: [] }));
    await waitFor('the rejection in the log', () =>
      h.logs.find((l) => l.includes('rejected VirtualService default/reviews')),
    );
    const line = h.logs.find((l) => l.includes('rejected VirtualService default/reviews'))!;
    assert.match(line, /its previous version keeps serving/);
    assert.match(line, /kubernetes:VirtualService\/default\/reviews:\d+:\d+: spec\.htp: unknown field "htp"/);
    assert.equal(route(h), 'v1');
    assert.equal(h.store.snapshot().version, versionBefore);
    const rejected = h.store.status().resources.find((r) => r.resource === 'VirtualService default/reviews')!;
    assert.equal(rejected.diagnostics[0].path, 'spec.htp');

    await waitFor(
      'status of the rejected generation',
      () =>
        h.fake.get(VS, 'VirtualService', 'default', 'reviews')?.status?.observedGeneration === 2 || undefined,
    );
    st = h.fake.get(VS, 'VirtualService', 'default', 'reviews')!.status;
    assert.deepEqual(st.validationMessages, [
      { level: 'ERROR', type: { code: 'IST0106', name: 'SchemaValidationError' } },
    ]);
    assert.equal(st.conditions[0].type, 'Accepted');
    assert.equal(st.conditions[0].status, 'False');
    assert.match(st.conditions[0].message, /spec\.htp: unknown field "htp"/);

    // Fixed: served, and the status follows.
    h.fake.apply(vs('v2'));
    await waitFor('v2 served', () => route(h) === 'v2');
    await waitFor(
      'accepted again',
      () =>
        h.fake.get(VS, 'VirtualService', 'default', 'reviews')?.status?.conditions?.[0]?.status === 'True' ||
        undefined,
    );
    assert.ok(h.logs.some((l) => l.includes('is valid again')));
    // Our own status writes come back as watch events: they make no new snapshot and no further write.
    await waitFor('three status writes done', () => h.store.statusWrites >= 3);
    const settled = h.store.snapshot().version;
    h.fake.apply({
      apiVersion: VS,
      kind: 'DestinationRule',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { host: 'reviews' },
    });
    await waitFor('the DestinationRule', () =>
      h.store.snapshot().get('DestinationRule', 'default', 'reviews'),
    );
    assert.equal(h.store.snapshot().version, settled + 1);
    // pilot_k8s_cfg_events: the rejected generation and our own status writes are no events.
    const counts = h.store.eventCounts.totals().map((c) => `${c.type} ${c.event} ${c.count}`);
    assert.ok(counts.includes('VirtualService update 1'), counts.join(', '));
    assert.ok(counts.includes('DestinationRule add 1'), counts.join(', '));
    const vsPatches = h.fake.requests.filter(
      (r) => r.method === 'PATCH' && r.path.includes('/virtualservices/'),
    );
    assert.equal(vsPatches.length, 3);
  } finally {
    await h.close();
  }
});

test('a bookmark moves the resume point; a 410 Gone re-lists and loses nothing', async () => {
  const h = await harness();
  try {
    await h.store.start();
    const countBefore = h.store.snapshot().resources.length;
    // A change elsewhere moves the resourceVersion; the VirtualService watch learns it from a bookmark.
    h.fake.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'reviews', namespace: 'default' },
    });
    await waitFor('the ServiceAccount', () => h.store.snapshot().get('ServiceAccount', 'default', 'reviews'));
    const bookmarkRv = String(h.fake.resourceVersion);
    h.fake.bookmark();
    h.fake.closeWatches();
    const resumed = await waitFor('the VirtualService watch resumed', () =>
      h.fake
        .watchRequests()
        .filter((w) => w.path === '/apis/networking.istio.io/v1/virtualservices')
        .at(1),
    );
    assert.equal(resumed.query.get('resourceVersion'), bookmarkRv);

    // While the watches expire, things change that no watch event carries: only a re-list sees them.
    h.fake.expire(() => {
      h.fake.apply(vs('v3'));
      h.fake.delete('v1', 'ServiceAccount', 'default', 'reviews');
      h.fake.apply({
        apiVersion: VS,
        kind: 'ServiceEntry',
        metadata: { name: 'ext', namespace: 'default' },
        spec: {
          hosts: ['api.example.com'],
          ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
          resolution: 'DNS',
        },
      });
    });
    await waitFor(
      'the re-listed state',
      () =>
        route(h) === 'v3' &&
        !h.store.snapshot().get('ServiceAccount', 'default', 'reviews') &&
        h.store.snapshot().get('ServiceEntry', 'default', 'ext'),
    );
    assert.ok(h.logs.some((l) => /listed virtualservices again .*410 Gone/.test(l)));
    // Everything else is still there: same count as before plus the ServiceEntry.
    assert.equal(h.store.snapshot().resources.length, countBefore + 1);
    // And the watches go on after the re-list: a later change arrives as an event.
    h.fake.apply(vs('v4'));
    await waitFor('v4 after the re-list', () => route(h) === 'v4');
  } finally {
    await h.close();
  }
});

test('a CRD that is not installed is warned about and read once it is', async () => {
  const h = await harness({ skip: ['Telemetry'] });
  try {
    await h.store.start();
    assert.ok(
      h.logs.some((l) =>
        /WARNING: the API server does not serve \/apis\/telemetry\.istio\.io\/v1\/telemetries/.test(l),
      ),
    );
    h.fake.serve('telemetry.istio.io/v1', 'Telemetry');
    h.fake.apply({
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: { name: 'mesh-default', namespace: 'istio-system' },
      spec: { accessLogging: [{ providers: [{ name: 'envoy' }] }] },
    });
    await waitFor('the Telemetry', () => h.store.snapshot().get('Telemetry', 'istio-system', 'mesh-default'));
  } finally {
    await h.close();
  }
});

test('start fails clearly when the API server refuses the credentials or is not there', async () => {
  const h = await harness();
  try {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: h.fake.url, caData: Buffer.from(h.fake.caPem).toString('base64') }],
      users: [{ name: 'u', token: 'wrong' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const bad = new KubernetesStore({ kubeConfig: kc, log: () => {} });
    await assert.rejects(
      bad.start(),
      /cannot read config from kubernetes https:\/\/127\.0\.0\.1:\d+: listing \/apis\/\S+ failed: .*401 Unauthorized/,
    );
    const gone = new KubeConfig();
    gone.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await assert.rejects(
      new KubernetesStore({ kubeConfig: gone, log: () => {} }).start(),
      /cannot read config from kubernetes https:\/\/127\.0\.0\.1:1: listing .* failed/,
    );
  } finally {
    await h.close();
  }
});
