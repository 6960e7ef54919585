// EtcdStore against a real etcd: list + watch, per-key validation, writes, restarts, the CA root, leased registrations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { loadText } from '../../api/load.js';
import type { Resource } from '../../api/resource.js';
import { waitFor } from '../../cli/server-test-util.js';
import type { ConfigChange } from '../store.js';
import { EtcdStore } from './etcd-store.js';
import { LeasedRegistrations } from './leased-registrations.js';
import { startEtcd } from './test-util.js';

function resources(yaml: string): Resource[] {
  const r = loadText(yaml, 'test.yaml');
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r.resources;
}

const vs = (subset: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: ${subset} } }] }]
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
`;

function subsetOf(store: EtcdStore): unknown {
  const r = store.snapshot().get('VirtualService', 'default', 'reviews') as any;
  return r?.spec.http[0].route[0].destination.subset;
}

test('etcd store: lists at start, watches writes, rejects a bad value per key and keeps its last good version', async () => {
  const etcd = await startEtcd();
  const logs: string[] = [];
  const seed = new EtcdStore({ endpoints: [etcd.url], prefix: '/t1/', log: (l) => logs.push(l) });
  const store = new EtcdStore({ endpoints: [etcd.url], prefix: '/t1/', log: (l) => logs.push(l) });
  const raw = new Etcd3({ hosts: etcd.url });
  try {
    await seed.start();
    assert.deepEqual(
      (await seed.apply(resources(SERVICE))).map((o) => o.action),
      ['created'],
    );
    await store.start();
    assert.equal(store.snapshot().resources.length, 1, 'a resource written before start is listed');
    const changes: ConfigChange[] = [];
    store.subscribe((c) => changes.push(c));

    assert.deepEqual(
      (await seed.apply(resources(vs('v1')))).map((o) => o.action),
      ['created'],
    );
    await waitFor('the VirtualService in the watching store', () => subsetOf(store) === 'v1');
    assert.deepEqual([...changes.at(-1)!.kinds], ['VirtualService']);
    await waitFor('the writer to see its own write', () => subsetOf(seed) === 'v1');
    assert.deepEqual(
      (await seed.apply(resources(vs('v1')))).map((o) => o.action),
      ['unchanged'],
      'applying the same resource again changes nothing',
    );

    // A bad value written behind the API's back is rejected with its key, line and field; v1 keeps serving.
    const key = '/t1/config/VirtualService/default/reviews';
    await raw.put(key).value(vs('v2').replace('hosts: [reviews]', 'hosts: [reviews]\n  htp: []'));
    const status = await waitFor('the rejection', () =>
      store.status().files.find((f) => f.file === `etcd:${key}` && f.state === 'rejected'),
    );
    const err = status.diagnostics.find((d) => d.severity === 'error')!;
    assert.equal(err.file, `etcd:${key}`);
    assert.equal(err.path, 'spec.htp');
    assert.ok(err.line > 1, `line ${err.line} points into the stored YAML`);
    assert.equal(subsetOf(store), 'v1');
    assert.ok(logs.some((l) => l.includes(`rejected etcd:${key}`)));

    // A value stored under another resource's key is refused as well.
    await raw.put('/t1/config/VirtualService/default/other').value(vs('v3'));
    await waitFor('the misplaced value', () =>
      store
        .status()
        .files.some(
          (f) =>
            f.file.endsWith('/default/other') && f.diagnostics.some((d) => /store it at/.test(d.message)),
        ),
    );
    assert.equal(store.snapshot().get('VirtualService', 'default', 'other'), undefined);

    await seed.apply(resources(vs('v2')));
    await waitFor('v2 after a good write', () => subsetOf(store) === 'v2');
    assert.deepEqual(
      (
        await seed.delete([
          { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
          { kind: 'VirtualService', namespace: 'default', name: 'nope' },
        ])
      ).map((o) => o.action),
      ['deleted', 'not found'],
    );
    await waitFor('the deletion', () => subsetOf(store) === undefined);
    assert.equal(changes.at(-1)!.events[0].type, 'deleted');
    // pilot_k8s_cfg_events: the listed Service, the VirtualService's life; rejected values are no event.
    assert.deepEqual(
      store.eventCounts
        .totals()
        .map((c) => `${c.type} ${c.event} ${c.count}`)
        .sort(),
      ['Service add 1', 'VirtualService add 1', 'VirtualService delete 1', 'VirtualService update 1'],
    );
  } finally {
    raw.close();
    await store.close();
    await seed.close();
    await etcd.stop();
  }
});

test('etcd store: keeps serving while etcd is down and sees changes made after it restarts; nothing is lost', async () => {
  const etcd = await startEtcd();
  const logs: string[] = [];
  const store = new EtcdStore({ endpoints: [etcd.url], prefix: '/t2/', log: (l) => logs.push(l) });
  const writer = new EtcdStore({ endpoints: [etcd.url], prefix: '/t2/', log: () => {} });
  try {
    await store.start();
    await writer.start();
    await writer.apply(resources(SERVICE + '---' + vs('v1')));
    await waitFor('v1', () => subsetOf(store) === 'v1');
    await etcd.kill();
    await waitFor('the store to notice', () => logs.some((l) => l.includes('lost the etcd watch')), 10_000);
    assert.equal(subsetOf(store), 'v1', 'the last config keeps serving while etcd is down');
    await etcd.restart();
    // Writes may fail until the client's circuit breaker lets calls through again.
    await waitFor(
      'a write after the restart',
      () =>
        writer.apply(resources(vs('v2'))).then(
          () => true,
          () => false,
        ),
      20_000,
    );
    await waitFor('v2 through the resumed watch', () => subsetOf(store) === 'v2', 20_000);
    assert.ok(store.snapshot().get('Service', 'default', 'reviews'), 'the Service survived the restart');
  } finally {
    await store.close();
    await writer.close();
    await etcd.stop();
  }
});

test('etcd CA root: racing replicas agree on one root', async () => {
  const etcd = await startEtcd();
  const a = new EtcdStore({ endpoints: [etcd.url], prefix: '/t3/', log: () => {} });
  const b = new EtcdStore({ endpoints: [etcd.url], prefix: '/t3/', log: () => {} });
  try {
    assert.equal(await a.caRoot().load(), null);
    const [ra, rb] = await Promise.all([
      a.caRoot().createIfAbsent({ 'root-cert.pem': 'A' }),
      b.caRoot().createIfAbsent({ 'root-cert.pem': 'B' }),
    ]);
    assert.deepEqual(ra, rb);
    assert.deepEqual(await b.caRoot().load(), ra);
  } finally {
    await a.close();
    await b.close();
    await etcd.stop();
  }
});

test('leased registrations vanish when their replica stops renewing, and never delete what another replica holds', async () => {
  const etcd = await startEtcd();
  const store = new EtcdStore({ endpoints: [etcd.url], prefix: '/t4/', log: () => {} });
  const we = (ip: string): Resource[] =>
    resources(`
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: vm-1, namespace: default }
spec: { address: ${ip} }
`);
  const a = new LeasedRegistrations(store.client, store.keys, { ttlSeconds: 2, log: () => {} });
  const b = new LeasedRegistrations(store.client, store.keys, { ttlSeconds: 2, log: () => {} });
  const address = (): unknown =>
    (store.snapshot().get('WorkloadEntry', 'default', 'vm-1') as any)?.spec.address;
  try {
    await store.start();
    await a.register(we('10.0.0.1')[0]);
    await waitFor('the registration', () => address() === '10.0.0.1');
    // b takes the entry over (the proxy reconnected to b): a's delayed removal must not delete it.
    await b.register(we('10.0.0.2')[0]);
    await waitFor('b holding it', () => address() === '10.0.0.2');
    assert.equal(await a.unregister({ kind: 'WorkloadEntry', namespace: 'default', name: 'vm-1' }), false);
    assert.equal(address(), '10.0.0.2');
    // b dies (stops renewing): the lease expires and etcd removes the entry.
    b.close();
    await waitFor('the entry to expire with b lease', () => address() === undefined, 15_000);
  } finally {
    a.close();
    b.close();
    await store.close();
    await etcd.stop();
  }
});
