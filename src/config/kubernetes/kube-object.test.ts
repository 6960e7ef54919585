// API objects in the shapes the Kubernetes API serves them, with the fields the server fills in
// (managedFields, ownerReferences, clusterIPs, ipFamilies, containerStatuses, hostIPs, token Secrets, …),
// load as config without errors. testdata/cluster-objects.json was written from the API reference and
// kubectl's output format, not captured from a cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configOf, loadObject, type KubeObject } from './kube-object.js';
import { watchedKinds } from './watched-kinds.js';

const OBJECTS = JSON.parse(
  readFileSync(
    new URL('../../../../src/config/kubernetes/testdata/cluster-objects.json', import.meta.url),
    'utf8',
  ),
) as KubeObject[];

const kindOf = (name: string) => watchedKinds().find((k) => k.kind === name)!;

for (const o of OBJECTS) {
  test(`a ${o.kind} as the API serves it loads: ${o.metadata!.namespace ?? ''}/${o.metadata!.name}`, () => {
    // List items come without apiVersion and kind; the watched resource supplies them.
    const { apiVersion: _a, kind, ...item } = o;
    const r = loadObject(kindOf(kind!), item);
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.ok(r.resource);
    assert.equal(r.resource.metadata.resourceVersion, undefined);
    // A Pod's deprecated spec.serviceAccount (filled by the API server) is not warned about.
    assert.ok(!r.diagnostics.some((d) => d.path === 'spec.serviceAccount'));
  });
}

test("an Istio resource's status and the API bookkeeping are not config", () => {
  const vs = configOf(kindOf('VirtualService'), {
    metadata: { name: 'r', namespace: 'default', resourceVersion: '7', generation: 2 },
    spec: { hosts: ['r'] },
    status: { observedGeneration: 2 },
  });
  assert.deepEqual(vs, {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'r', namespace: 'default', generation: 2 },
    spec: { hosts: ['r'] },
  });
  // A Pod keeps its status: its IP is what the registry reads.
  const pod = configOf(kindOf('Pod'), { metadata: { name: 'p' }, spec: {}, status: { podIP: '10.0.0.1' } });
  assert.deepEqual(pod.status, { podIP: '10.0.0.1' });
});
