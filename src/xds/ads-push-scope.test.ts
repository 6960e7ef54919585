// Tests what a push regenerates and how much runs at once: per-type push selections, merged queued
// pushes, and the push throttle, over real gRPC streams on 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdsServer, type GenerateFn, type Resource } from './ads-server.js';
import { adsServiceConstructor, type DiscoveryResponseMessage } from './ads-service.js';
import { decodeResource } from './protos.js';
import { edsCluster, routeConfig, sleep, waitFor } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

/** A raw ADS stream: wildcard CDS and RDS `9080`, ACKing every response. */
class RawClient {
  readonly responses: DiscoveryResponseMessage[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<any, DiscoveryResponseMessage>;

  constructor(port: number, id: string) {
    const Ctor = adsServiceConstructor();
    this.client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    this.call = (this.client as any).StreamAggregatedResources();
    this.call.on('error', () => {});
    this.call.on('data', (r: DiscoveryResponseMessage) => {
      this.responses.push(r);
      this.call.write({
        typeUrl: r.typeUrl,
        responseNonce: r.nonce,
        versionInfo: r.versionInfo,
        resourceNames: r.typeUrl === TypeUrl.ROUTE ? ['9080'] : [],
      });
    });
    this.call.write({ node: { id }, typeUrl: TypeUrl.CLUSTER });
    this.call.write({ typeUrl: TypeUrl.ROUTE, resourceNames: ['9080'] });
  }

  count(typeUrl: string): number {
    return this.responses.filter((r) => r.typeUrl === typeUrl).length;
  }

  last(typeUrl: string): Resource[] {
    const r = this.responses.filter((x) => x.typeUrl === typeUrl).at(-1);
    return (r?.resources ?? []).map((a) => decodeResource(a));
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Generated content that tests change between pushes, with per-type call counts and concurrency. */
class Source {
  clusterNames = [REVIEWS];
  routeVersion = 'v1';
  delayMs = 0;
  readonly calls = new Map<string, number>();
  running = 0;
  peak = 0;
  readonly generate: GenerateFn = async (_proxy, typeUrl) => {
    this.calls.set(typeUrl, (this.calls.get(typeUrl) ?? 0) + 1);
    this.peak = Math.max(this.peak, ++this.running);
    try {
      if (this.delayMs > 0) await sleep(this.delayMs);
      if (typeUrl === TypeUrl.CLUSTER) return this.clusterNames.map((n) => edsCluster(n));
      if (typeUrl === TypeUrl.ROUTE)
        return [
          routeConfig('9080', [`reviews.default.svc.cluster.local:9080`], `${REVIEWS}-${this.routeVersion}`),
        ];
      return [];
    } finally {
      this.running--;
    }
  };
}

async function start(source: Source, pushThrottle?: number): Promise<{ server: AdsServer; port: number }> {
  const server = new AdsServer({
    generate: source.generate,
    address: '127.0.0.1:0',
    pushThrottle,
    log: () => {},
  });
  return { server, port: await server.listen() };
}

const synced = (c: RawClient): Promise<boolean> =>
  waitFor('CDS and RDS', () => c.count(TypeUrl.CLUSTER) >= 1 && c.count(TypeUrl.ROUTE) >= 1);

test('a push limited to RDS regenerates only RDS; other types wait for a push that names them', async () => {
  const source = new Source();
  const { server, port } = await start(source);
  const client = new RawClient(port, 'sidecar~127.1.0.2~a-0.default~default.svc.cluster.local');
  try {
    await synced(client);
    const cdsCalls = source.calls.get(TypeUrl.CLUSTER);
    source.routeVersion = 'v2';
    source.clusterNames = [REVIEWS, 'outbound|9080||ratings.default.svc.cluster.local'];
    await server.push(() => new Set([TypeUrl.ROUTE]));
    await waitFor('route v2', () => JSON.stringify(client.last(TypeUrl.ROUTE)).includes(`${REVIEWS}-v2`));
    assert.equal(source.calls.get(TypeUrl.CLUSTER), cdsCalls, 'CDS was regenerated');
    assert.equal(client.last(TypeUrl.CLUSTER).length, 1, 'a cluster change went out with an RDS-only push');
    // A selector answering false or null pushes nothing; `true` pushes every type.
    await server.push(() => false);
    await server.push(() => null);
    assert.equal(source.calls.get(TypeUrl.CLUSTER), cdsCalls);
    await server.push(() => true);
    await waitFor('two clusters', () => client.last(TypeUrl.CLUSTER).length === 2);
  } finally {
    client.close();
    await server.close();
  }
});

test('debounced requests unite their type selections', async () => {
  const source = new Source();
  const server = new AdsServer({
    generate: source.generate,
    address: '127.0.0.1:0',
    debounceMs: 50,
    log: () => {},
  });
  const port = await server.listen();
  const client = new RawClient(port, 'sidecar~127.1.0.2~a-0.default~default.svc.cluster.local');
  try {
    await synced(client);
    const before = { cds: source.calls.get(TypeUrl.CLUSTER)!, rds: source.calls.get(TypeUrl.ROUTE)! };
    server.requestPush(() => new Set([TypeUrl.ROUTE]));
    server.requestPush(() => new Set([TypeUrl.CLUSTER]));
    await waitFor('one merged push', () => source.calls.get(TypeUrl.ROUTE) === before.rds + 1);
    // A later push is a barrier: once it is generated, a second push of the first burst would be too.
    server.requestPush(() => new Set([TypeUrl.ROUTE]));
    await waitFor('the barrier push', () => source.calls.get(TypeUrl.ROUTE) === before.rds + 2);
    assert.equal(source.calls.get(TypeUrl.CLUSTER), before.cds + 1);
  } finally {
    client.close();
    await server.close();
  }
});

test('pushes requested while one is queued merge into it', async () => {
  const source = new Source();
  const { server, port } = await start(source);
  const client = new RawClient(port, 'sidecar~127.1.0.2~a-0.default~default.svc.cluster.local');
  try {
    await synced(client);
    const before = source.calls.get(TypeUrl.CLUSTER)!;
    source.delayMs = 100;
    const first = server.push();
    await waitFor('the first push generating', () => source.running > 0);
    const rest = [server.push(), server.push(), server.push()];
    await Promise.all([first, ...rest]);
    assert.equal(source.calls.get(TypeUrl.CLUSTER), before + 2, 'three queued pushes ran as one');
  } finally {
    client.close();
    await server.close();
  }
});

test('the push throttle bounds the responses generated at once across streams', async () => {
  for (const limit of [1, 3]) {
    const source = new Source();
    const { server, port } = await start(source, limit);
    const clients = [0, 1, 2, 3, 4].map(
      (i) => new RawClient(port, `sidecar~127.1.0.${i + 2}~a-${i}.default~default.svc.cluster.local`),
    );
    try {
      for (const c of clients) await synced(c);
      source.delayMs = 40;
      source.peak = 0;
      source.routeVersion = `limit-${limit}`;
      await server.push();
      for (const c of clients)
        await waitFor('new route', () => JSON.stringify(c.last(TypeUrl.ROUTE)).includes(`limit-${limit}`));
      assert.equal(source.peak, limit, `at most ${limit} at once, and the limit is reached`);
    } finally {
      for (const c of clients) c.close();
      await server.close();
    }
  }
});
