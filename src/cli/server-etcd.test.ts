// End to end on a real etcd: two `mizzen server --etcd` replicas, `mizzen apply|get|delete --server`,
// pushes across replicas, and WorkloadEntry auto-registration that ends with the proxy's stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdsClient } from '../xds/ads-client.js';
import { TypeUrl } from '../xds/type-urls.js';
import type { CanonicalObject } from '../xds/protos.js';
import { simulate } from '../pilot/test-util.js';
import { startEtcd } from '../config/etcd/test-util.js';
import { startServerWith, waitFor, type ServerProcess } from './server-test-util.js';
import { runMizzen } from './test-util.js';
import { listRemote } from './remote-config.js';

const MESH = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: reviews-vm }
spec:
  metadata: { labels: { app: reviews, version: v2 } }
  template: { serviceAccount: reviews, ports: { http: 9080 } }
`;

const vs = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: ${subset} }
`;

function sidecar(server: string, ip: string, extra: Record<string, unknown> = {}) {
  const state = new Map<string, CanonicalObject[]>();
  const client = new AdsClient({
    server,
    node: {
      id: `sidecar~${ip}~vm-${ip}.default~default.svc.cluster.local`,
      metadata: { NAMESPACE: 'default', INTERCEPTION_MODE: 'NONE', INSTANCE_IPS: ip, ...extra },
    },
    onResources: (typeUrl, resources) => {
      state.set(typeUrl, resources);
    },
    log: () => {},
  });
  client.start();
  client.subscribe(TypeUrl.ROUTE, ['http_proxy']);
  const routeTo = (): string | undefined => {
    const rc = state.get(TypeUrl.ROUTE)?.[0];
    return rc ? simulate(rc, { host: 'reviews:9080', path: '/' })?.cluster : undefined;
  };
  return { client, state, routeTo };
}

test('replicas on one etcd: apply through one, get and push through the other; auto-registered WorkloadEntries follow their proxy', async () => {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-etcd-apply-'));
  const servers: ServerProcess[] = [];
  const clients: AdsClient[] = [];
  try {
    const args = ['--etcd', etcd.url, '--etcd-prefix', '/e2e/', '--workload-entry-grace-period', '300ms'];
    servers.push(await startServerWith([...args, '--name', 'one']));
    servers.push(await startServerWith([...args, '--name', 'two']));
    const [one, two] = servers;
    writeFileSync(join(dir, 'mesh.yaml'), MESH);
    writeFileSync(join(dir, 'vs.yaml'), vs('v1'));

    let r = await runMizzen([
      'apply',
      '--server',
      one.debug,
      '-f',
      join(dir, 'mesh.yaml'),
      '-f',
      join(dir, 'vs.yaml'),
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^virtualservice\.networking\.istio\.io\/reviews created$/m);
    assert.match(r.out, /^service\/reviews created$/m);

    // A bad VirtualService is refused with its file, line, field and message; nothing is written.
    writeFileSync(join(dir, 'bad.yaml'), vs('v2').replace('hosts: [reviews]', 'hosts: [reviews]\n  htp: []'));
    r = await runMizzen(['apply', '--server', `http://${one.debug}`, '-f', join(dir, 'bad.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${join(dir, 'bad.yaml')}:6:3: spec\\.htp`));
    assert.match(r.err, /nothing was applied/);

    // Read back through the other replica, like kubectl get.
    r = await runMizzen(['get', 'vs', '--server', two.debug]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME\s+GATEWAYS\s+HOSTS\s+AGE\nreviews\s+\["reviews"\]/m);

    // A proxy on replica two sees a change applied through replica one.
    const p = sidecar(two.xds, '127.3.0.4');
    clients.push(p.client);
    await waitFor(
      'v1 on replica two',
      () => p.routeTo() === 'outbound|9080|v1|reviews.default.svc.cluster.local',
      20_000,
    );
    writeFileSync(join(dir, 'vs.yaml'), vs('v2'));
    r = await runMizzen(['apply', '--server', one.debug, '-f', join(dir, 'vs.yaml')]);
    assert.match(r.out, /reviews configured/);
    await waitFor(
      'v2 pushed by replica two',
      () => p.routeTo() === 'outbound|9080|v2|reviews.default.svc.cluster.local',
      20_000,
    );

    // A VM proxy naming its WorkloadGroup is registered as a WorkloadEntry, visible on both replicas...
    const vm = sidecar(one.xds, '127.3.0.9', { AUTO_REGISTER_GROUP: 'reviews-vm', LABELS: { zone: 'a' } });
    clients.push(vm.client);
    const registered = async (): Promise<any> =>
      (await listRemote(two.debug, ['WorkloadEntry'], 'default')).find(
        (e) => e.metadata.name === 'reviews-vm-127.3.0.9',
      );
    await waitFor('the auto-registered WorkloadEntry', registered, 20_000);
    const g = await runMizzen([
      'get',
      'workloadentry',
      'reviews-vm-127.3.0.9',
      '-o',
      'json',
      '--server',
      two.debug,
    ]);
    assert.equal(g.code, 0, g.err);
    const entry = JSON.parse(g.out);
    assert.equal(entry.spec.address, '127.3.0.9');
    assert.equal(entry.spec.serviceAccount, 'reviews');
    assert.deepEqual(entry.spec.labels, { zone: 'a' });
    assert.equal(entry.metadata.annotations['istio.io/autoRegistrationGroup'], 'reviews-vm');
    assert.equal(entry.metadata.annotations['istio.io/workloadController'], 'one');
    // ...and is an endpoint of the Service its group's labels select (version v2 subset).
    p.client.subscribe(TypeUrl.ENDPOINT, ['outbound|9080|v2|reviews.default.svc.cluster.local']);
    await waitFor(
      'the VM as an endpoint',
      () =>
        JSON.stringify(p.state.get(TypeUrl.ENDPOINT) ?? []).includes('"address":"127.3.0.9"') &&
        JSON.stringify(p.state.get(TypeUrl.ENDPOINT)).includes('"portValue":9080'),
      20_000,
    );
    // The proxy stops (no more stream, no heartbeat): the entry is removed after the grace period.
    vm.client.close();
    await waitFor('the WorkloadEntry to go', async () => !(await registered()), 20_000);

    r = await runMizzen(['delete', 'vs', 'reviews', '--server', one.debug]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /virtualservice\.networking\.istio\.io "reviews" deleted/);
    r = await runMizzen(['delete', 'vs', 'reviews', '--server', one.debug]);
    assert.equal(r.code, 1);
    assert.match(r.err, /NotFound/);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
    await etcd.stop();
  }
});

test('mizzen server --etcd with no etcd there exits 1 and says where it looked', async () => {
  const r = await runMizzen([
    'server',
    '--etcd',
    'http://127.0.0.1:1',
    '--xds-address',
    '127.0.0.1:0',
    '--debug-address',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read config from etcd http:\/\/127\.0\.0\.1:1 \/mizzen\/.*is etcd running/);
});
