// The CA root in Kubernetes Secrets: two `mizzen server --kubeconfig` replicas started together against
// the fake API server create one istio-ca-secret and sign under it; a cacerts Secret is plugged in;
// sidecars' service-account tokens are checked with TokenReview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KubeConfig } from '@kubernetes/client-node';
import { startServerWith, type ServerProcess } from '../../cli/server-test-util.js';
import { CA_FILES } from '../../ca/authority.js';
import { issueLocalToken, TOKEN_KEY_FILE } from '../../ca/token.js';
import { SLEEP, sign } from '../../ca/test-util.js';
import { FakeApiServer } from './fake-api-server.js';
import { watchedKinds } from './watched-kinds.js';
import { KubernetesCaRootStore } from './kube-ca-root.js';

const decode = (data: Record<string, string>, f: string): string => Buffer.from(data[f], 'base64').toString();

test('replicas on one cluster share the root they keep in Secret istio-system/istio-ca-secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-kube-ca-'));
  const fake = await new FakeApiServer().start(watchedKinds(), dir);
  const servers: ServerProcess[] = [];
  try {
    const kubeconfig = fake.writeKubeconfig(dir);
    // Started together, so both may make a root: the API keeps the first (409 for the other), which adopts it.
    servers.push(
      ...(await Promise.all([
        startServerWith(['--kubeconfig', kubeconfig]),
        startServerWith(['--kubeconfig', kubeconfig]),
      ])),
    );
    const secret = fake.get('v1', 'Secret', 'istio-system', 'istio-ca-secret');
    assert.ok(secret, 'the root is stored in istio-ca-secret');
    assert.equal(secret.type, 'istio.io/ca-root');
    const creates = fake.requests.filter(
      (r) => r.method === 'POST' && r.path === '/api/v1/namespaces/istio-system/secrets',
    );
    assert.ok(creates.length >= 1 && creates.length <= 2);
    for (const s of servers)
      assert.match(
        s.stdout(),
        /ca: (shared|generated) signing certificate, shared by the replicas in Secret istio-system\/istio-ca-secret/,
      );
    const root = new X509Certificate(decode(secret.data, CA_FILES.root));
    const token = await issueLocalToken(Buffer.from(decode(secret.data, TOKEN_KEY_FILE), 'base64'), {
      namespace: 'foo',
      serviceAccount: 'sleep',
      pod: 'sleep-0',
    });
    for (const s of servers) {
      const r = await sign(s.xds, token);
      assert.equal(r.code, grpc.status.OK, s.stderr());
      const leaf = new X509Certificate(r.chain[0]);
      assert.ok(leaf.verify(root.publicKey), 'the leaf verifies under the root kept in the Secret');
      assert.equal(leaf.subjectAltName, `URI:${SLEEP}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cacerts Secret is preferred (plugged-in CA), with the token key of istio-ca-secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-kube-cacerts-'));
  const fake = await new FakeApiServer().start(watchedKinds(), dir);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(fake.writeKubeconfig(dir));
    const store = new KubernetesCaRootStore(kc, 'istio-system');
    assert.equal(await store.load(), null);
    const first = await store.createIfAbsent({ [CA_FILES.root]: 'ROOT-A', [TOKEN_KEY_FILE]: 'KEY-A' });
    assert.equal(first[CA_FILES.root], 'ROOT-A');
    // A replica that lost the race adopts the stored root.
    const second = await store.createIfAbsent({ [CA_FILES.root]: 'ROOT-B', [TOKEN_KEY_FILE]: 'KEY-B' });
    assert.deepEqual(second, first);
    const b64 = (t: string): string => Buffer.from(t).toString('base64');
    fake.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-system' },
      data: { [CA_FILES.root]: b64('PLUGGED-ROOT'), [CA_FILES.cert]: b64('PLUGGED-CERT') },
    });
    assert.deepEqual(await store.load(), {
      [CA_FILES.root]: 'PLUGGED-ROOT',
      [CA_FILES.cert]: 'PLUGGED-CERT',
      [TOKEN_KEY_FILE]: 'KEY-A',
    });
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with --kubernetes a sidecar proves its identity with its service-account token (TokenReview for istio-ca)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-kube-tokenreview-'));
  const fake = await new FakeApiServer().start(watchedKinds(), dir);
  let server: ServerProcess | null = null;
  try {
    fake.addToken('sa-token-sleep', 'foo', 'sleep', 'sleep-7d9f');
    fake.addToken('sa-token-other-audience', 'foo', 'sleep', '', ['https://kubernetes.default.svc']);
    server = await startServerWith(['--kubeconfig', fake.writeKubeconfig(dir)]);
    const ok = await sign(server.xds, 'sa-token-sleep');
    assert.equal(ok.code, grpc.status.OK, server.stderr());
    assert.equal(new X509Certificate(ok.chain[0]).subjectAltName, `URI:${SLEEP}`);
    const review = fake.requests.find((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews')!;
    assert.deepEqual(JSON.parse(review.body).spec, { token: 'sa-token-sleep', audiences: ['istio-ca'] });
    // A token for another audience, and one the API server does not know, are refused.
    assert.equal((await sign(server.xds, 'sa-token-other-audience')).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await sign(server.xds, 'forged')).code, grpc.status.UNAUTHENTICATED);
    assert.match(
      server.stderr(),
      /CA: refused a CSR: bad token: the API server did not authenticate the token: invalid bearer token/,
    );
  } finally {
    await server?.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
