// The ADS client with several control-plane addresses: it streams from the first, moves to the next when
// that one goes away, keeps its last accepted state meanwhile, and takes the new server's state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdsClient } from './ads-client.js';
import { AdsServer } from './ads-server.js';
import type { CanonicalObject } from './protos.js';
import { TypeUrl } from './type-urls.js';
import { edsCluster, waitFor } from './test-util.js';

async function serving(clusters: CanonicalObject[]): Promise<{ server: AdsServer; address: string }> {
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 5,
    log: () => {},
    generate: (_p, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? clusters : []),
  });
  return { server, address: `127.0.0.1:${await server.listen()}` };
}

test('ads client fails over to the next address and keeps its last good state while it does', async () => {
  const a = await serving([edsCluster('from-a')]);
  const b = await serving([edsCluster('from-b')]);
  const seen: string[][] = [];
  const connects: string[] = [];
  const client = new AdsClient({
    server: `${a.address}, ${b.address}`,
    node: { id: 'sidecar~127.0.0.1~failover.default~default.svc.cluster.local' },
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.CLUSTER) seen.push(resources.map((r) => String(r.name)));
    },
    wildcardTypes: [TypeUrl.CLUSTER],
    log: () => {},
  });
  client.on('connected', (addr) => connects.push(addr));
  try {
    client.start();
    await waitFor('clusters from a', () => seen.at(-1)?.[0] === 'from-a');
    assert.equal(client.server, a.address);
    await a.server.close();
    await waitFor('clusters from b', () => seen.at(-1)?.[0] === 'from-b');
    assert.deepEqual(connects, [a.address, b.address]);
    assert.equal(client.server, b.address);
    // Between the two, nothing replaced what a had sent: the only updates are a's, then b's.
    assert.deepEqual(
      seen.map((s) => s[0]).filter((n, i, all) => n !== all[i - 1]),
      ['from-a', 'from-b'],
    );
    assert.equal(client.lastGood(TypeUrl.CLUSTER)?.resources[0].name, 'from-b');
  } finally {
    client.close();
    await b.server.close();
  }
});
