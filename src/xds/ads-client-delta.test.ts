// The Mizzen proxy's ADS client over Delta ADS against the real AdsServer on 127.0.0.1: it hands the
// proxy whole sets built from deltas, keeps the last good set on a NACK, resumes with
// initial_resource_versions, and falls back to state of the world on a server without delta.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdsClient } from './ads-client.js';
import { AdsServer, type Resource } from './ads-server.js';
import { adsServiceConstructor, type DiscoveryRequestMessage } from './ads-service.js';
import { encodeResource, type CanonicalObject } from './protos.js';
import { edsCluster, waitFor } from './test-util.js';
import { TypeUrl, VHDS_CLIENT_FEATURE } from './type-urls.js';

const A = 'outbound|9080||a.default.svc.cluster.local';
const B = 'outbound|9080||b.default.svc.cluster.local';
const NODE = { id: 'sidecar~127.0.0.1~c.default~default.svc.cluster.local' };

function names(resources: CanonicalObject[] | undefined): string[] {
  return (resources ?? []).map((r) => String(r.name)).sort();
}

test('delta client: whole sets from deltas, deletions, NACK keeps the last good set', async () => {
  const clusters = new Map<string, Resource>([[A, edsCluster(A)]]);
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 10,
    log: () => {},
    immutableResources: true,
    generate: (_p, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? [...clusters.values()] : []),
  });
  const port = await server.listen();
  const applied: CanonicalObject[][] = [];
  const incremental: boolean[] = [];
  const client = new AdsClient({
    server: `127.0.0.1:${port}`,
    node: NODE,
    wildcardTypes: [TypeUrl.CLUSTER],
    log: () => {},
    onResources: (typeUrl, resources, _version, isIncremental) => {
      if (typeUrl !== TypeUrl.CLUSTER) return;
      incremental.push(isIncremental);
      if (resources.some((r) => (r.connectTimeout as { seconds?: number })?.seconds === 99))
        return new Error('cluster b: connect_timeout 99s refused');
      applied.push(resources);
    },
  });
  try {
    client.start();
    await waitFor('the first set', () => applied.length === 1);
    assert.equal(client.protocol, 'delta');
    assert.deepEqual(names(applied[0]), [A]);

    clusters.set(B, edsCluster(B));
    await server.push();
    await waitFor('A and B', () => applied.length === 2);
    assert.deepEqual(names(applied[1]), [A, B], 'the proxy gets the whole set, not just the delta');
    const a = (set: CanonicalObject[]): CanonicalObject | undefined => set.find((r) => r.name === A);
    assert.equal(
      a(applied[1]),
      a(applied[0]),
      'the unchanged cluster is the object it had (nothing to compare)',
    );
    assert.deepEqual(incremental, [true, true]);

    clusters.set(B, { ...edsCluster(B), connectTimeout: { seconds: 99 } });
    await server.push();
    await waitFor('the NACK', () => server.metrics().pilot_total_xds_rejects === 1);
    assert.equal(applied.length, 2);
    assert.deepEqual(names(client.lastGood(TypeUrl.CLUSTER)?.resources), [A, B]);
    assert.match(server.syncStatus()[0].types[TypeUrl.CLUSTER].lastNack!.message, /connect_timeout 99s/);

    clusters.delete(B);
    await server.push();
    await waitFor('B removed', () => applied.length === 3);
    assert.deepEqual(names(applied[2]), [A]);
  } finally {
    client.close();
    await server.close();
  }
});

test('delta client: a reconnect resumes with initial_resource_versions (nothing unchanged is resent)', async () => {
  const clusters = new Map<string, Resource>([A, B].map((n) => [n, edsCluster(n)]));
  let sentOnSecond = -1;
  const make = (): AdsServer =>
    new AdsServer({
      address: '127.0.0.1:0',
      debounceMs: 10,
      log: () => {},
      immutableResources: true,
      generate: (_p, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? [...clusters.values()] : []),
    });
  const first = make();
  const second = make();
  const ports = [await first.listen(), await second.listen()];
  const applied: CanonicalObject[][] = [];
  const client = new AdsClient({
    server: ports.map((p) => `127.0.0.1:${p}`),
    node: NODE,
    wildcardTypes: [TypeUrl.CLUSTER],
    initialBackoffMs: 20,
    log: () => {},
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.CLUSTER) applied.push(resources);
    },
  });
  try {
    client.start();
    await waitFor('the first set', () => applied.length === 1);
    await first.close();
    await waitFor('the second server answered', () => second.syncStatus()[0]?.types[TypeUrl.CLUSTER]?.sent);
    sentOnSecond = second.syncStatus()[0].types[TypeUrl.CLUSTER].resourceCount;
    await waitFor('the resumed set', () => applied.length === 2);
    assert.deepEqual(names(applied[1]), [A, B], 'the set held from the first stream carries over');
    assert.equal(sentOnSecond, 2);
    assert.equal(second.metrics().pilot_xds_pushes.cds, 1, 'one (empty) response answers the resumption');
  } finally {
    client.close();
    await first.close();
    await second.close();
  }
});

test('delta client falls back to state of the world on a server without delta xDS', async () => {
  const server = new grpc.Server();
  server.addService(adsServiceConstructor().service, {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequestMessage, unknown>) => {
      call.on('error', () => {});
      call.on('data', (req: DiscoveryRequestMessage) => {
        if (req.responseNonce) return;
        call.write({
          versionInfo: 'v1',
          typeUrl: TypeUrl.CLUSTER,
          nonce: 'n1',
          resources: [encodeResource(TypeUrl.CLUSTER, edsCluster(A))],
        });
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const applied: CanonicalObject[][] = [];
  const client = new AdsClient({
    server: `127.0.0.1:${port}`,
    node: NODE,
    wildcardTypes: [TypeUrl.CLUSTER],
    log: () => {},
    onResources: (typeUrl, resources, _version, incremental) => {
      if (typeUrl === TypeUrl.CLUSTER) applied.push(resources);
      // State of the world: every object is new, so the proxy must compare contents itself.
      if (incremental) return new Error('a state-of-the-world update was marked incremental');
    },
  });
  try {
    client.start();
    await waitFor('the SotW response', () => applied.length === 1);
    assert.equal(client.protocol, 'sotw');
    assert.deepEqual(names(applied[0]), [A]);
    assert.equal(client.lastGood(TypeUrl.CLUSTER)?.version, 'v1', 'accepted, so not marked incremental');
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('delta client: VHDS by namespace; the node says it applies VHDS; unsubscribing forgets the namespace', async () => {
  const hosts = new Map<string, Resource[]>([
    [
      '80',
      [
        { name: '80/a', domains: ['a'] },
        { name: '80/b', domains: ['b'] },
      ],
    ],
    ['9080', [{ name: '9080/c', domains: ['c'] }]],
  ]);
  let features: string[] = [];
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 10,
    log: () => {},
    immutableResources: true,
    generate: (p, typeUrl, subscribed) => {
      features = p.node.clientFeatures ?? [];
      return typeUrl === TypeUrl.VIRTUAL_HOST ? subscribed.flatMap((n) => hosts.get(n) ?? []) : [];
    },
  });
  const port = await server.listen();
  const applied: CanonicalObject[][] = [];
  const client = new AdsClient({
    server: `127.0.0.1:${port}`,
    node: { ...NODE, clientFeatures: [VHDS_CLIENT_FEATURE] },
    wildcardTypes: [TypeUrl.CLUSTER],
    log: () => {},
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.VIRTUAL_HOST) applied.push(resources);
    },
  });
  try {
    client.start();
    client.subscribe(TypeUrl.VIRTUAL_HOST, ['80', '9080']);
    await waitFor('the hosts of 80 and 9080', () => applied.at(-1)?.length === 3);
    assert.deepEqual(features, [VHDS_CLIENT_FEATURE]);
    assert.equal(server.proxies()[0].vhds, true, 'a delta stream whose node has the feature is on VHDS');

    client.subscribe(TypeUrl.VIRTUAL_HOST, ['9080']);
    await waitFor('the unsubscription', () => {
      const t = server.syncStatus()[0]?.types[TypeUrl.VIRTUAL_HOST];
      return t?.resourceNames.join() === '9080';
    });
    hosts.set('9080', [{ name: '9080/c', domains: ['c', 'c:9080'] }]);
    await server.push();
    await waitFor('the changed host', () => names(applied.at(-1)).join() === '9080/c');
    assert.deepEqual((applied.at(-1)![0] as { domains: string[] }).domains, ['c', 'c:9080']);
  } finally {
    client.close();
    await server.close();
  }
});
