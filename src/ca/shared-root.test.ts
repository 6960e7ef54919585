// A replicated CA on a real etcd: two `mizzen server --etcd` replicas started together sign under one
// root kept in etcd, so a certificate from either verifies under the root every proxy is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { startEtcd } from '../config/etcd/test-util.js';
import { EtcdStore } from '../config/etcd/etcd-store.js';
import { startServerWith, type ServerProcess } from '../cli/server-test-util.js';
import { CA_FILES } from './authority.js';
import { issueLocalToken, TOKEN_KEY_FILE } from './token.js';
import { SLEEP, sign } from './test-util.js';

test('replicas on one etcd share one CA root: certificates from either verify under it', async () => {
  const etcd = await startEtcd();
  const store = new EtcdStore({ endpoints: [etcd.url], prefix: '/ca-e2e/', log: () => {} });
  const servers: ServerProcess[] = [];
  try {
    const args = (name: string): string[] => [
      '--etcd',
      etcd.url,
      '--etcd-prefix',
      '/ca-e2e/',
      '--name',
      name,
    ];
    // Started together, so both may make a root: etcd keeps the first, the other adopts it.
    servers.push(...(await Promise.all([startServerWith(args('one')), startServerWith(args('two'))])));
    const stored = await store.caRoot().load();
    assert.ok(stored, 'a root is stored in etcd');
    const root = new X509Certificate(stored[CA_FILES.root]);
    const token = await issueLocalToken(Buffer.from(stored[TOKEN_KEY_FILE], 'base64'), {
      namespace: 'foo',
      serviceAccount: 'sleep',
      pod: 'sleep-0',
    });
    for (const s of servers) {
      const r = await sign(s.xds, token);
      assert.equal(r.code, grpc.status.OK, s.stderr());
      const leaf = new X509Certificate(r.chain[0]);
      assert.ok(leaf.verify(root.publicKey), 'the leaf verifies under the root stored in etcd');
      assert.equal(leaf.subjectAltName, `URI:${SLEEP}`);
      assert.ok(
        new X509Certificate(r.chain[r.chain.length - 1]).raw.equals(root.raw),
        'the chain ends at it',
      );
    }
    // A restarted replica keeps the root.
    await servers.pop()!.stop();
    servers.push(await startServerWith(args('three')));
    const again = await sign(servers[1].xds, token);
    assert.ok(new X509Certificate(again.chain[0]).verify(root.publicKey));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await store.close();
    await etcd.stop();
  }
});
