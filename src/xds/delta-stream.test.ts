// Delta ADS (DeltaAggregatedResources) over real gRPC on 127.0.0.1 with a raw @grpc/grpc-js client:
// the first response has everything, an edit sends only the changed resource, a deletion is in
// removed_resources, subscribe/unsubscribe, initial_resource_versions, and a NACK is recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdsServer, type Resource } from './ads-server.js';
import {
  adsServiceConstructor,
  type DeltaDiscoveryRequestMessage,
  type DeltaDiscoveryResponseMessage,
} from './ads-service.js';
import { decodeResource, type AnyMessage } from './protos.js';
import { deltaBody, diff } from './delta-stream.js';
import { framedDeltaResource } from './discovery-response-bytes.js';
import { edsCluster, routeConfig, waitFor } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const A = 'outbound|9080||a.default.svc.cluster.local';
const B = 'outbound|9080||b.default.svc.cluster.local';
const C = 'outbound|9080||c.default.svc.cluster.local';

/** A raw delta stream that records every response and ACKs it unless told to NACK it. */
class DeltaClient {
  readonly responses: DeltaDiscoveryResponseMessage[] = [];
  nackNext: string | null = null;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DeltaDiscoveryRequestMessage, DeltaDiscoveryResponseMessage>;

  constructor(port: number, id: string, first: DeltaDiscoveryRequestMessage) {
    const Ctor = adsServiceConstructor();
    this.client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    this.call = (this.client as any).DeltaAggregatedResources();
    this.call.on('error', () => {});
    this.call.on('data', (r: DeltaDiscoveryResponseMessage) => {
      this.responses.push(r);
      const nack = this.nackNext;
      this.nackNext = null;
      this.send({
        typeUrl: r.typeUrl,
        responseNonce: r.nonce,
        ...(nack ? { errorDetail: { code: 3, message: nack } } : {}),
      });
    });
    this.send({ ...first, node: { id } });
  }

  send(req: DeltaDiscoveryRequestMessage): void {
    this.call.write(req);
  }

  of(typeUrl: string): DeltaDiscoveryResponseMessage[] {
    return this.responses.filter((r) => r.typeUrl === typeUrl);
  }

  /** Names in a response's resources. */
  static names(r: DeltaDiscoveryResponseMessage): string[] {
    return (r.resources ?? []).map((x) => x.name ?? '').sort();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** A server whose CDS is `clusters` and RDS `routes` at the time of each generation. */
async function serve(
  clusters: Map<string, Resource>,
  routes: Map<string, Resource>,
): Promise<{ server: AdsServer; port: number; generated: string[] }> {
  const generated: string[] = [];
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 10,
    log: () => {},
    immutableResources: true,
    generate: (_p, typeUrl, names) => {
      generated.push(typeUrl);
      if (typeUrl === TypeUrl.CLUSTER) return [...clusters.values()];
      if (typeUrl === TypeUrl.ROUTE) return names.flatMap((n) => (routes.has(n) ? [routes.get(n)!] : []));
      // VHDS: the virtual hosts of the subscribed route configs, named `<route config>/<host>`.
      if (typeUrl === TypeUrl.VIRTUAL_HOST)
        return names.flatMap((n) => (routes.get(n)?.virtualHosts as Resource[]) ?? []);
      return [];
    },
  });
  return { server, port: await server.listen(), generated };
}

test('delta CDS: all at first, then only the changed cluster, deletions in removed_resources', async () => {
  const clusters = new Map([A, B, C].map((n) => [n, edsCluster(n)]));
  const { server, port } = await serve(clusters, new Map());
  const client = new DeltaClient(port, 'sidecar~127.0.0.1~x.default~default.svc.cluster.local', {
    typeUrl: TypeUrl.CLUSTER,
  });
  try {
    await waitFor('first CDS response', () => client.of(TypeUrl.CLUSTER).length === 1);
    const first = client.of(TypeUrl.CLUSTER)[0];
    assert.deepEqual(DeltaClient.names(first), [A, B, C].sort());
    assert.deepEqual(first.removedResources ?? [], []);
    for (const r of first.resources ?? []) {
      assert.equal(r.resource?.type_url, TypeUrl.CLUSTER);
      assert.equal((decodeResource(r.resource) as any).name, r.name);
      assert.ok(r.version, 'every resource carries a version');
    }
    const versionOfA = first.resources!.find((r) => r.name === A)!.version;

    // Edit B: only B comes, with a new version; A and C are not resent.
    clusters.set(B, { ...edsCluster(B), connectTimeout: { seconds: 3 } });
    await server.push();
    await waitFor('the edit', () => client.of(TypeUrl.CLUSTER).length === 2);
    const edit = client.of(TypeUrl.CLUSTER)[1];
    assert.deepEqual(DeltaClient.names(edit), [B]);
    assert.deepEqual(edit.removedResources ?? [], []);
    assert.notEqual(edit.resources![0].version, first.resources!.find((r) => r.name === B)!.version);

    // A push with nothing changed sends nothing.
    await server.push();
    // Delete C: an empty response naming C in removed_resources.
    clusters.delete(C);
    await server.push();
    await waitFor('the deletion', () => client.of(TypeUrl.CLUSTER).length === 3);
    const del = client.of(TypeUrl.CLUSTER)[2];
    assert.deepEqual(DeltaClient.names(del), []);
    assert.deepEqual(del.removedResources, [C]);
    assert.ok(versionOfA);
    await waitFor(
      'the ACK of the deletion',
      () => server.syncStatus()[0]?.types[TypeUrl.CLUSTER]?.acked === del.systemVersionInfo,
    );
  } finally {
    client.close();
    await server.close();
  }
});

test('delta RDS: subscribe and unsubscribe by name; unknown names come back removed', async () => {
  const routes = new Map(['80', '9080'].map((n) => [n, routeConfig(n, [`h${n}`], A)]));
  const { server, port } = await serve(new Map(), routes);
  const client = new DeltaClient(port, 'sidecar~127.0.0.1~y.default~default.svc.cluster.local', {
    typeUrl: TypeUrl.ROUTE,
    resourceNamesSubscribe: ['80'],
  });
  try {
    await waitFor('first RDS response', () => client.of(TypeUrl.ROUTE).length === 1);
    assert.deepEqual(DeltaClient.names(client.of(TypeUrl.ROUTE)[0]), ['80']);

    // Subscribing 9080 and a name that does not exist: 9080 alone, and the unknown name as removed.
    client.send({ typeUrl: TypeUrl.ROUTE, resourceNamesSubscribe: ['9080', 'nope'] });
    await waitFor('the subscription response', () => client.of(TypeUrl.ROUTE).length === 2);
    const sub = client.of(TypeUrl.ROUTE)[1];
    assert.deepEqual(DeltaClient.names(sub), ['9080']);
    assert.deepEqual(sub.removedResources, ['nope']);

    // After unsubscribing 80, a change to 80 is not sent; a change to 9080 is, alone.
    client.send({ typeUrl: TypeUrl.ROUTE, resourceNamesUnsubscribe: ['80'] });
    await waitFor(
      'the unsubscription',
      () => server.syncStatus()[0]?.types[TypeUrl.ROUTE]?.resourceNames.join() === ['9080', 'nope'].join(),
    );
    routes.set('80', routeConfig('80', ['changed80'], A));
    routes.set('9080', routeConfig('9080', ['changed9080'], A));
    await server.push();
    await waitFor('the 9080 push', () => client.of(TypeUrl.ROUTE).length === 3);
    const push = client.of(TypeUrl.ROUTE)[2];
    assert.deepEqual(DeltaClient.names(push), ['9080']);
    assert.deepEqual((decodeResource(push.resources![0].resource!) as any).virtualHosts[0].domains, [
      'changed9080',
    ]);
    await server.push();
    assert.equal(client.of(TypeUrl.ROUTE).length, 3, 'an unchanged push sends nothing');
  } finally {
    client.close();
    await server.close();
  }
});

test('delta VHDS: subscribed by namespace; a namespace is no resource of its own; unsubscribing forgets its hosts', async () => {
  const vh = (rc: string, host: string, cluster = A): Resource => ({
    name: `${rc}/${host}`,
    domains: [host],
    routes: [{ match: { prefix: '/' }, route: { cluster } }],
  });
  const routes = new Map<string, Resource>([
    ['80', { name: '80', virtualHosts: [vh('80', 'a'), vh('80', 'b')] }],
    ['9080', { name: '9080', virtualHosts: [vh('9080', 'c')] }],
  ]);
  const { server, port } = await serve(new Map(), routes);
  const client = new DeltaClient(port, 'sidecar~127.0.0.1~v.default~default.svc.cluster.local', {
    typeUrl: TypeUrl.VIRTUAL_HOST,
    resourceNamesSubscribe: ['80'],
  });
  const vhds = (): DeltaDiscoveryResponseMessage[] => client.of(TypeUrl.VIRTUAL_HOST);
  try {
    await waitFor('first VHDS response', () => vhds().length === 1);
    assert.deepEqual(DeltaClient.names(vhds()[0]), ['80/a', '80/b']);
    assert.deepEqual(vhds()[0].removedResources ?? [], [], 'the namespace 80 is not answered as removed');

    client.send({ typeUrl: TypeUrl.VIRTUAL_HOST, resourceNamesSubscribe: ['9080'] });
    await waitFor('the 9080 hosts', () => vhds().length === 2);
    assert.deepEqual(DeltaClient.names(vhds()[1]), ['9080/c']);
    assert.deepEqual(vhds()[1].removedResources ?? [], []);

    // After unsubscribing 80, its hosts are neither sent nor removed; 9080's change comes alone.
    client.send({ typeUrl: TypeUrl.VIRTUAL_HOST, resourceNamesUnsubscribe: ['80'] });
    await waitFor(
      'the unsubscription',
      () => server.syncStatus()[0]?.types[TypeUrl.VIRTUAL_HOST]?.resourceNames.join() === '9080',
    );
    routes.set('80', { name: '80', virtualHosts: [vh('80', 'a', B), vh('80', 'b')] });
    routes.set('9080', { name: '9080', virtualHosts: [vh('9080', 'c', B)] });
    await server.push();
    await waitFor('the 9080 push', () => vhds().length === 3);
    assert.deepEqual(DeltaClient.names(vhds()[2]), ['9080/c']);
    assert.deepEqual(vhds()[2].removedResources ?? [], []);

    // Subscribing 80 again sends all its hosts: the server forgot what the client held of it.
    client.send({ typeUrl: TypeUrl.VIRTUAL_HOST, resourceNamesSubscribe: ['80'] });
    await waitFor('80 again', () => vhds().length === 4);
    assert.deepEqual(DeltaClient.names(vhds()[3]), ['80/a', '80/b']);
  } finally {
    client.close();
    await server.close();
  }
});

test('delta: initial_resource_versions skips what a reconnecting client already has', async () => {
  const clusters = new Map([A, B].map((n) => [n, edsCluster(n)]));
  const { server, port } = await serve(clusters, new Map());
  const id = 'sidecar~127.0.0.1~z.default~default.svc.cluster.local';
  const first = new DeltaClient(port, id, { typeUrl: TypeUrl.CLUSTER });
  let again: DeltaClient | null = null;
  try {
    await waitFor('first stream response', () => first.of(TypeUrl.CLUSTER).length === 1);
    const versions = Object.fromEntries(
      first.of(TypeUrl.CLUSTER)[0].resources!.map((r) => [r.name!, r.version!]),
    );
    first.close();
    clusters.set(B, { ...edsCluster(B), connectTimeout: { seconds: 7 } });
    again = new DeltaClient(port, id, {
      typeUrl: TypeUrl.CLUSTER,
      initialResourceVersions: { ...versions, [C]: 'gone' },
    });
    await waitFor('the reconnected stream response', () => again!.of(TypeUrl.CLUSTER).length === 1);
    const r = again.of(TypeUrl.CLUSTER)[0];
    assert.deepEqual(DeltaClient.names(r), [B], 'A is unchanged since the client had it');
    assert.deepEqual(r.removedResources, [C]);
  } finally {
    first.close();
    again?.close();
    await server.close();
  }
});

test('delta: a NACK is recorded and the rejected version is not resent until the resource changes', async () => {
  const clusters = new Map([A].map((n) => [n, edsCluster(n)]));
  const { server, port } = await serve(clusters, new Map());
  const client = new DeltaClient(port, 'sidecar~127.0.0.1~n.default~default.svc.cluster.local', {
    typeUrl: TypeUrl.CLUSTER,
  });
  try {
    await waitFor('first CDS response', () => client.of(TypeUrl.CLUSTER).length === 1);
    client.nackNext = 'cluster A: bad connect_timeout';
    clusters.set(A, { ...edsCluster(A), connectTimeout: { seconds: 9 } });
    await server.push();
    await waitFor('the NACK', () => server.metrics().pilot_total_xds_rejects === 1);
    const status = server.syncStatus()[0].types[TypeUrl.CLUSTER];
    assert.equal(status.lastNack?.message, 'cluster A: bad connect_timeout');
    assert.notEqual(status.acked, status.sent);
    await server.push();
    assert.equal(client.of(TypeUrl.CLUSTER).length, 2, 'the NACKed version is not pushed again');
    clusters.set(A, { ...edsCluster(A), connectTimeout: { seconds: 2 } });
    await server.push();
    await waitFor('the changed cluster', () => client.of(TypeUrl.CLUSTER).length === 3);
    assert.deepEqual(DeltaClient.names(client.of(TypeUrl.CLUSTER)[2]), [A]);
    const fixed = client.of(TypeUrl.CLUSTER)[2].systemVersionInfo;
    await waitFor('the ACK of the fix', () => server.syncStatus()[0].types[TypeUrl.CLUSTER].acked === fixed);
  } finally {
    client.close();
    await server.close();
  }
});

test('diff: what a client lacks, computed once for every proxy that held the same list and gets the same one', () => {
  const any = (text: string): AnyMessage => ({ type_url: TypeUrl.CLUSTER, value: Buffer.from(text) });
  const a = any('a');
  const prev = { names: ['a', 'b', 'c'], anys: [a, any('b'), any('c')] };
  // a: the same object; b: a new object with the same bytes; c: changed bytes; d: new.
  const next = { names: ['a', 'b', 'd', 'c'], anys: [a, any('b'), any('d'), any('c2')] };
  const d = diff(prev, next, null);
  assert.deepEqual([...d.changed], [2, 3]);
  assert.deepEqual([...d.removed], []);
  assert.equal(diff(prev, next, null), d, 'a second proxy holding the same list gets the same answer');
  assert.ok(Object.isFrozen(d.changed) && Object.isFrozen(d.removed), 'a shared answer cannot be changed');
  // Another list held, or versions from a reconnect: computed for that client.
  const gone = diff({ names: ['a', 'x'], anys: [a, any('x')] }, next, null);
  assert.deepEqual([...gone.removed], ['x']);
  assert.deepEqual([...gone.changed], [1, 2, 3]);
  const resumed = diff(
    null,
    next,
    new Map([
      ['a', 'stale'],
      ['z', 'v'],
    ]),
  );
  assert.deepEqual([...resumed.changed], [0, 1, 2, 3]);
  assert.deepEqual([...resumed.removed], ['z']);
});

test('deltaBody: a whole list is framed once for every client; a based list reuses its base body; the bytes are the same either way', () => {
  const any = (text: string): AnyMessage => ({ type_url: TypeUrl.CLUSTER, value: Buffer.from(text) });
  const names = Array.from({ length: 150 }, (_, i) => `outbound|80||s${i}`);
  const shared = { names, anys: names.map(any) };
  const all = names.map((_, i) => i);
  const perResource = (e: { names: string[]; anys: AnyMessage[] }, idx: number[]): Buffer =>
    Buffer.concat(idx.map((i) => framedDeltaResource(e.anys[i], e.names[i])));
  const body = deltaBody(shared, all);
  assert.equal(deltaBody(shared, all), body, 'a second client of the list gets the same chunks');
  assert.deepEqual(Buffer.concat(body), perResource(shared, all));
  // A based list: the base's chunks as they are, then its own.
  const own = { base: shared, names: ['inbound|9080||'], anys: [any('inbound')] };
  const based = deltaBody(own, [...all, 150]);
  assert.deepEqual(based.slice(0, body.length), [...body]);
  for (let i = 0; i < body.length; i++) assert.equal(based[i], body[i]);
  assert.deepEqual(
    Buffer.concat(based),
    Buffer.concat([perResource(shared, all), framedDeltaResource(own.anys[0], own.names[0])]),
  );
  // Some resources only: just those, in order.
  assert.deepEqual(
    Buffer.concat(deltaBody(own, [3, 150])),
    Buffer.concat([
      framedDeltaResource(shared.anys[3], names[3]),
      framedDeltaResource(own.anys[0], own.names[0]),
    ]),
  );
});
