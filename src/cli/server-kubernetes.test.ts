// End to end against a fake Kubernetes API server: `mizzen server --kubeconfig` and a real sidecar proxy;
// config added, broken and re-listed through the API moves (or keeps) real traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, type ApiObject } from '../config/kubernetes/fake-api-server.js';
import { watchedKinds } from '../config/kubernetes/watched-kinds.js';
import { spawnProxy, startBackend, type Backend, type ProxyChild } from '../proxy/test-util.js';
import { startServerWith, waitFor, type ServerProcess } from './server-test-util.js';
import { runMizzen } from './test-util.js';

/** The sleep pod's IP: its sidecar's outbound HTTP proxy listens there on 15001. */
const SLEEP_IP = '127.21.0.4';
const NET = 'networking.istio.io/v1';

const service = (name: string): ApiObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ name: 'http', port: 9080, protocol: 'TCP' }] },
});

/** An EndpointSlice of `svc` with one ready endpoint on 127.0.0.1:port, as the EndpointSlice controller writes it. */
const slice = (svc: string, port: number): ApiObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: `${svc}-abcde`,
    namespace: 'default',
    labels: {
      'kubernetes.io/service-name': svc,
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    },
  },
  addressType: 'IPv4',
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
});

const vs = (host: string, extra: ApiObject = {}): ApiObject => ({
  apiVersion: NET,
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host } }] }], ...extra },
});

const SLEEP_POD: ApiObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'sleep-0', namespace: 'default', labels: { app: 'sleep' } },
  spec: { serviceAccountName: 'sleep', containers: [{ name: 'sleep', image: 'curlimages/curl' }] },
  status: {
    phase: 'Running',
    podIP: SLEEP_IP,
    podIPs: [{ ip: SLEEP_IP }],
    conditions: [{ type: 'Ready', status: 'True' }],
  },
};

/** GET http://HOST:9080/ through the sleep sidecar's outbound HTTP proxy; the answering backend's name. */
function viaSleep(host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: SLEEP_IP, port: 15001, path: `http://${host}:9080/`, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-backend'] ?? '-')}`));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('mizzen server --kubeconfig: Service, EndpointSlice and VirtualService from the API move real traffic; a bad one is rejected, a 410 re-list loses nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-server-kube-'));
  const fake = await new FakeApiServer().start(watchedKinds(), dir);
  const backends: Backend[] = [];
  let server: ServerProcess | null = null;
  let proxy: ProxyChild | null = null;
  try {
    const v1 = await startBackend('v1');
    const v2 = await startBackend('v2');
    backends.push(v1, v2);
    fake.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    fake.apply(service('reviews'));
    fake.apply(slice('reviews', v1.port));
    fake.apply(SLEEP_POD);

    server = await startServerWith(['--kubeconfig', fake.writeKubeconfig(dir)]);
    assert.match(
      server.stdout(),
      /config: \d+ resources from kubernetes https:\/\/127\.0\.0\.1:\d+ \(version \d+\)/,
    );
    proxy = await spawnProxy(
      [
        'sidecar',
        '--xds-address',
        server.xds,
        '--id',
        `sidecar~${SLEEP_IP}~sleep-0.default~default.svc.cluster.local`,
        '--metadata',
        JSON.stringify({
          NAMESPACE: 'default',
          INSTANCE_IPS: SLEEP_IP,
          INTERCEPTION_MODE: 'NONE',
          LABELS: { app: 'sleep' },
        }),
        '--admin-port',
        '0',
      ],
      join(dir, 'sleep.ready'),
    );
    await waitFor(
      'reviews answered by v1',
      async () => (await viaSleep('reviews.default')) === '200 v1',
      20_000,
    );

    // Added through the API: a Service, its EndpointSlice and a VirtualService sending reviews there.
    fake.apply(service('reviews-v2'));
    fake.apply(slice('reviews-v2', v2.port));
    fake.apply(vs('reviews-v2'));
    await waitFor(
      'reviews answered by v2',
      async () => (await viaSleep('reviews.default')) === '200 v2',
      20_000,
    );

    // A bad change is rejected with its field; the last good VirtualService keeps routing.
    fake.apply(vs('reviews', { htp: [] }));
    await waitFor(
      'the rejection',
      () => /rejected VirtualService default\/reviews/.test(server!.stderr()),
      20_000,
    );
    assert.match(
      server.stderr(),
      /kubernetes:VirtualService\/default\/reviews:\d+:\d+: spec\.htp: unknown field "htp"/,
    );
    await waitFor(
      'the Accepted=False status',
      () =>
        fake.get(NET, 'VirtualService', 'default', 'reviews')?.status?.conditions?.[0]?.status === 'False' ||
        undefined,
    );
    for (let i = 0; i < 5; i++) assert.equal(await viaSleep('reviews.default'), '200 v2');

    // The watches expire (410 Gone) while the VirtualService is fixed to send reviews back to v1:
    // only the re-list can see it; the rest (reviews-v2 and its endpoints) must survive it.
    fake.expire(() => fake.apply(vs('reviews')));
    await waitFor(
      'reviews answered by v1 after the re-list',
      async () => (await viaSleep('reviews.default')) === '200 v1',
      20_000,
    );
    assert.match(server.stderr(), /listed virtualservices again .*410 Gone/);
    assert.equal(await viaSleep('reviews-v2.default'), '200 v2');
    await waitFor(
      'the Accepted=True status',
      () =>
        fake.get(NET, 'VirtualService', 'default', 'reviews')?.status?.conditions?.[0]?.status === 'True' ||
        undefined,
    );

    // Config is written with kubectl: the server does not take writes.
    writeFileSync(
      join(dir, 'vs.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: x }\nspec: { hosts: [x] }\n',
    );
    const r = await runMizzen(['apply', '--server', server.debug, '-f', join(dir, 'vs.yaml')]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /reads config from the Kubernetes API \(https:\/\/127\.0\.0\.1:\d+\), which it does not write: use kubectl apply/,
    );

    // The endpoints follow the EndpointSlice: reviews-v2 without endpoints answers 503 (no healthy upstream).
    fake.delete('discovery.k8s.io/v1', 'EndpointSlice', 'default', 'reviews-v2-abcde');
    await waitFor(
      'reviews-v2 without endpoints',
      async () => (await viaSleep('reviews-v2.default')).startsWith('503'),
      20_000,
    );
  } finally {
    if (proxy && proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await server?.stop();
    for (const b of backends) await b.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mizzen server --kubernetes outside a pod, and with two config sources, is a usage error', async () => {
  let r = await runMizzen([
    'server',
    '--kubernetes',
    '--xds-address',
    '127.0.0.1:0',
    '--debug-address',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 2);
  assert.match(r.err, /KUBERNETES_SERVICE_HOST is not set .*pass --kubeconfig FILE/);
  r = await runMizzen(['server', '--kubernetes', '--config', '.']);
  assert.equal(r.code, 2);
  assert.match(r.err, /give one of --config DIR, --etcd URL\[,URL…\] or --kubernetes/);
  r = await runMizzen(['server', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--kubeconfig \/nonexistent\/kubeconfig: .*ENOENT/);
});
