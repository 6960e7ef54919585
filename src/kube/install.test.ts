// `mizzen install`: CRDs for every Istio kind of the config API, webhook configurations that reach the
// webhooks, and a control plane command line that really starts (run here against a real etcd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kindByName, knownKinds } from '../api/kinds/registry.js';
import { runMizzen } from '../cli/test-util.js';
import { startServerWith, type ServerProcess } from '../cli/server-test-util.js';
import { FakeApiServer } from '../config/kubernetes/fake-api-server.js';
import { watchedKinds } from '../config/kubernetes/watched-kinds.js';
import { startEtcd } from '../config/etcd/test-util.js';

test('mizzen install prints CRDs for every Istio kind, the control plane, both webhooks and the ingress gateway', async () => {
  const r = await runMizzen(['install', '--etcd', 'http://etcd.example:2379', '--replicas', '3']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /no --webhook-ca-bundle/);
  assert.match(r.out, /^# .*reads config from etcd; Istio resources applied with$/m);
  const docs = parseAllDocuments(r.out).map((d) => d.toJS());
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  const istioKinds = knownKinds().filter((k) =>
    kindByName(k)!.apiVersions[0].split('/')[0].endsWith('istio.io'),
  );
  assert.deepEqual(crds.map((c) => c.spec.names.kind).sort(), istioKinds.sort());
  const vs = crds.find((c) => c.spec.names.kind === 'VirtualService');
  assert.equal(vs.metadata.name, 'virtualservices.networking.istio.io');
  assert.deepEqual(vs.spec.names.shortNames, ['vs']);
  assert.deepEqual(
    vs.spec.versions.map((v: any) => `${v.name}${v.storage ? '*' : ''}`),
    kindByName('VirtualService')!.apiVersions.map(
      (v, i, all) => `${v.split('/')[1]}${i === all.length - 1 ? '*' : ''}`,
    ),
  );

  const istiod = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'istiod');
  assert.equal(istiod.spec.replicas, 3);
  const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'istiod');
  const webhookPort = service.spec.ports.find((p: any) => p.port === 443).targetPort;
  const mutating = docs.find((d) => d.kind === 'MutatingWebhookConfiguration');
  assert.deepEqual(mutating.webhooks[0].namespaceSelector, { matchLabels: { 'istio-injection': 'enabled' } });
  assert.deepEqual(mutating.webhooks[0].clientConfig.service, {
    name: 'istiod',
    namespace: 'istio-system',
    path: '/inject',
    port: 443,
  });
  const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration');
  assert.equal(validating.webhooks[0].clientConfig.service.path, '/validate');
  assert.ok(validating.webhooks[0].rules[0].apiGroups.includes('networking.istio.io'));
  const args: string[] = istiod.spec.template.spec.containers[0].args;
  assert.equal(args[args.indexOf('--webhook-address') + 1], `0.0.0.0:${webhookPort}`);
  const gateway = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'istio-ingressgateway');
  assert.equal(gateway.spec.template.metadata.labels.istio, 'ingressgateway');
  const gwService = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'istio-ingressgateway');
  assert.deepEqual(
    gwService.spec.ports.map((p: any) => `${p.port}:${p.targetPort}`),
    ['15021:15021', '80:8080', '443:8443'],
  );

  assert.deepEqual(args.slice(0, 3), ['server', '--etcd', 'http://etcd.example:2379']);
});

/** The istiod Deployment's command line from `mizzen install ARGS`, with local addresses and files, started. */
async function startInstalled(dir: string, install: string[], extra: string[] = []): Promise<ServerProcess> {
  const r = await runMizzen(['install', ...install]);
  const istiod = parseAllDocuments(r.out)
    .map((d) => d.toJS())
    .find((d) => d.kind === 'Deployment' && d.metadata.name === 'istiod');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=istiod',
    ],
    { stdio: 'ignore' },
  );
  const args = (istiod.spec.template.spec.containers[0].args as string[]).map((a) =>
    a.startsWith('0.0.0.0:')
      ? '127.0.0.1:0'
      : a.startsWith('/etc/mizzen/webhook/')
        ? join(dir, a.split('/').pop()!)
        : a,
  );
  assert.equal(args[0], 'server');
  // startServerWith adds its own --xds-address and --debug-address on port 0.
  const rest = args
    .slice(1)
    .filter(
      (a, i, all) =>
        a !== '--xds-address' &&
        a !== '--debug-address' &&
        all[i - 1] !== '--xds-address' &&
        all[i - 1] !== '--debug-address',
    );
  return startServerWith([...rest, ...extra]);
}

test("the installed control plane's command line starts mizzen server on etcd (addresses and files swapped for local ones)", async () => {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-install-'));
  let server;
  try {
    server = await startInstalled(dir, ['--etcd', etcd.url]);
    assert.match(server.stdout(), /webhook listening on 127\.0\.0\.1:\d+/);
    assert.match(server.stdout(), new RegExp(`resources from etcd ${etcd.url}`));
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    await etcd.stop();
  }
});

test('without --etcd the installed control plane watches the Kubernetes API (here: the fake API server)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-install-kube-'));
  const fake = await new FakeApiServer().start(watchedKinds(), dir);
  let server;
  try {
    const r = await runMizzen(['install']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^# .*watches the Kubernetes API \(mizzen server --kubernetes\)/m);
    // In a pod, --kubernetes uses the service account; here the kubeconfig names the fake.
    server = await startInstalled(dir, [], ['--kubeconfig', fake.writeKubeconfig(dir)]);
    assert.match(server.stdout(), /resources from kubernetes https:\/\/127\.0\.0\.1:\d+/);
    assert.match(server.stdout(), /webhook listening on 127\.0\.0\.1:\d+/);
  } finally {
    await server?.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
