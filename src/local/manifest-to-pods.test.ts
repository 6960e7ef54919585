// Deployment/Pod → pods: names, replicas, labels with pod-template-hash, command resolution, env, Pod objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { manifestToPods, podTemplateHash, resolveExecutable } from './manifest-to-pods.js';
import { containerEnv, expandVars, identityEnv, lookupIn } from './pod-env.js';
import { podObject } from './pod-object.js';
import { sidecarMetadata, sidecarNodeId } from './proxy-identity.js';

const YAML = `
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { color: red }
---
apiVersion: v1
kind: Secret
metadata: { name: creds }
data: { token: c2VjcmV0 }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v2
  labels: { app: reviews }
spec:
  replicas: 3
  selector: { matchLabels: { app: reviews, version: v2 } }
  template:
    metadata:
      labels: { app: reviews, version: v2 }
    spec:
      serviceAccountName: bookinfo-reviews
      terminationGracePeriodSeconds: 3
      containers:
        - name: reviews
          image: istio/examples-bookinfo-reviews-v2
          command: ["node", "reviews/reviews.mjs"]
          args: ["--name", "$(MY_POD)", "$$(KEEP)"]
          workingDir: sub
          env:
            - { name: SERVICE_VERSION, value: v2 }
            - name: MY_POD
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: MY_IP
              valueFrom: { fieldRef: { fieldPath: status.podIP } }
            - name: VERSION_LABEL
              valueFrom: { fieldRef: { fieldPath: "metadata.labels['version']" } }
            - name: COLOR
              valueFrom: { configMapKeyRef: { name: settings, key: color } }
            - name: TOKEN
              valueFrom: { secretKeyRef: { name: creds, key: token } }
            - { name: GREETING, value: "hi $(SERVICE_VERSION) $(UNKNOWN)" }
            - { name: HOST, value: 0.0.0.0 }
          ports:
            - { containerPort: 9080, name: http }
            - { containerPort: 9090 }
        - name: helper
          image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  namespace: tools
  labels: { app: lonely }
spec:
  restartPolicy: Never
  containers:
    - name: main
      command: ["./bin/run.sh"]
`;

function load() {
  const r = loadText(YAML, '/work/demo/app.yaml');
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r.resources;
}

test('a Deployment becomes `replicas` pods named <deploy>-<template hash>-<suffix>, stable and distinct', () => {
  const res = load();
  const { pods } = manifestToPods(res);
  const reviews = pods.filter((p) => p.workload === 'reviews-v2');
  assert.equal(reviews.length, 3);
  const hash = reviews[0].templateHash!;
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  for (const p of reviews) {
    assert.match(p.name, new RegExp(`^reviews-v2-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.deepEqual(p.labels, { app: 'reviews', version: 'v2', 'pod-template-hash': hash });
    assert.equal(p.serviceAccount, 'bookinfo-reviews');
    assert.equal(p.namespace, 'default');
    assert.equal(p.gracePeriodSeconds, 3);
    assert.equal(p.restartPolicy, 'Always');
  }
  assert.equal(new Set(reviews.map((p) => p.name)).size, 3);
  assert.deepEqual(
    manifestToPods(load()).pods.map((p) => p.name),
    pods.map((p) => p.name),
    'same names on every load',
  );
  const changed = podTemplateHash({ metadata: { labels: { app: 'reviews', version: 'v3' } } });
  assert.notEqual(changed, hash, 'a different template hashes differently');
});

test('commands run from the manifest folder: node is this Node, relative paths resolve; no command → not run', () => {
  const { pods } = manifestToPods(load());
  const p = pods[0];
  assert.equal(p.containers.length, 1, 'the helper container has no command');
  const c = p.containers[0];
  assert.equal(c.argv[0], process.execPath);
  assert.deepEqual(c.argv.slice(1), ['reviews/reviews.mjs', '--name', '$(MY_POD)', '$$(KEEP)']);
  assert.equal(c.cwd, '/work/demo/sub');
  assert.equal(c.port, 9080);
  assert.deepEqual(
    p.ports.map((x) => x.containerPort),
    [9080, 9090],
  );
  assert.ok(p.notes.some((n) => /image istio\/examples-bookinfo-reviews-v2 ignored/.test(n)));
  assert.ok(p.notes.some((n) => /helper: no command/.test(n)));
  const lonely = pods.find((x) => x.name === 'lonely')!;
  assert.equal(lonely.namespace, 'tools');
  assert.equal(lonely.workloadKind, 'Pod');
  assert.equal(lonely.restartPolicy, 'Never');
  assert.equal(lonely.containers[0].argv[0], '/work/demo/bin/run.sh');
  assert.equal(resolveExecutable('curl', '/x'), 'curl');
});

test('env: identity and HOST/PORT from the mesh, fieldRef / ConfigMap / Secret values, $(VAR) expansion', () => {
  const res = load();
  const p = manifestToPods(res).pods[0];
  const addr = { podIp: '127.1.2.3', appIp: '127.2.2.3' };
  const { env, notes } = containerEnv(p, p.containers[0], addr, lookupIn(res));
  assert.deepEqual(notes, []);
  assert.equal(env['HOST'], '127.2.2.3', 'HOST always the app address');
  assert.equal(env['PORT'], '9080');
  assert.equal(env['HTTP_PROXY'], 'http://127.1.2.3:15001');
  assert.equal(env['http_proxy'], 'http://127.1.2.3:15001');
  assert.equal(env['POD_NAME'], p.name);
  assert.equal(env['HOSTNAME'], p.name);
  assert.equal(env['POD_NAMESPACE'], 'default');
  assert.equal(env['SERVICE_ACCOUNT'], 'bookinfo-reviews');
  assert.equal(env['INSTANCE_IP'], '127.1.2.3');
  assert.equal(env['MY_POD'], p.name);
  assert.equal(env['MY_IP'], '127.1.2.3');
  assert.equal(env['VERSION_LABEL'], 'v2');
  assert.equal(env['COLOR'], 'red');
  assert.equal(env['TOKEN'], 'secret');
  assert.equal(env['GREETING'], 'hi v2 $(UNKNOWN)');
  assert.equal(expandVars('$(MY_POD) $$(KEEP)', env), `${p.name} $(KEEP)`);
  assert.deepEqual(identityEnv(p, addr)['HTTP_PROXY'], env['HTTP_PROXY']);
  const missing = containerEnv(p, p.containers[0], addr);
  assert.ok(missing.notes.some((n) => /ConfigMap default\/settings key color not found/.test(n)));
});

test('the generated Pod object and sidecar identity look like Kubernetes and Istio', () => {
  const p = manifestToPods(load()).pods[0];
  const addr = { podIp: '127.1.2.3', appIp: '127.2.2.3' };
  const o = podObject(p, addr, { ready: true, createdAt: Date.UTC(2026, 0, 2, 3, 4, 5) }) as any;
  assert.equal(o.kind, 'Pod');
  assert.equal(o.metadata.name, p.name);
  assert.equal(o.metadata.labels['pod-template-hash'], p.templateHash);
  assert.equal(o.metadata.annotations['mizzen.io/app-host'], '127.2.2.3');
  assert.equal(o.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
  assert.equal(o.metadata.ownerReferences[0].name, `reviews-v2-${p.templateHash}`);
  assert.equal(o.spec.serviceAccountName, 'bookinfo-reviews');
  assert.deepEqual(o.spec.containers[0].ports[0], { containerPort: 9080, name: 'http' });
  assert.equal(o.status.podIP, '127.1.2.3');
  assert.equal(o.status.phase, 'Running');
  assert.deepEqual(o.status.conditions[0], { type: 'Ready', status: 'True' });
  const loaded = loadText(JSON.stringify(o), 'pod.json');
  assert.deepEqual(
    loaded.diagnostics.filter((d) => d.severity === 'error'),
    [],
    'the Pod passes the Pod schema',
  );
  assert.equal(
    sidecarNodeId(p, '127.1.2.3'),
    `sidecar~127.1.2.3~${p.name}.default~default.svc.cluster.local`,
  );
  const md = sidecarMetadata(p, addr);
  assert.equal(md['MIZZEN_APP_HOST'], '127.2.2.3');
  assert.equal(md['INTERCEPTION_MODE'], 'NONE');
  assert.equal(md['WORKLOAD_NAME'], 'reviews-v2');
  assert.deepEqual(md['LABELS'], p.labels);
});

test("Istio's grpc-agent injection template is noted as not applied (the pod gets a sidecar)", () => {
  const yaml = (annotations: string): string => `apiVersion: v1
kind: Pod
metadata: { name: client, annotations: { ${annotations} } }
spec: { containers: [{ name: client, command: ["node", "client.mjs"] }] }
`;
  const loadPods = (text: string): ReturnType<typeof manifestToPods> =>
    manifestToPods(loadText(text, '/work/demo/client.yaml').resources);
  const grpc = loadPods(yaml('inject.istio.io/templates: grpc-agent')).pods[0];
  assert.equal(grpc.sidecar, true);
  assert.ok(
    grpc.notes.some((n) =>
      /client: inject\.istio\.io\/templates "grpc-agent" is not applied.*mizzen agent/.test(n),
    ),
    grpc.notes.join('\n'),
  );
  const plain = loadPods(yaml('inject.istio.io/templates: sidecar')).pods[0];
  assert.ok(!plain.notes.some((n) => /templates/.test(n)));
});
