// Auto-registration writes the proxy's locality into the WorkloadEntry, over the group template's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/resource.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { ProxyInfo } from '../xds/ads-server.js';
import { WorkloadAutoRegistration } from './auto-registration.js';

const GROUP = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'WorkloadGroup',
  metadata: { name: 'echo', namespace: 'default' },
  spec: { template: { serviceAccount: 'echo', locality: 'template/zone', labels: { app: 'echo' } } },
} as unknown as Resource;

const snapshot: ConfigSnapshot = {
  version: 1,
  resources: [GROUP],
  byKind: (k) => (k === 'WorkloadGroup' ? [GROUP] : []),
  get: (k, ns, n) => (k === 'WorkloadGroup' && ns === 'default' && n === 'echo' ? GROUP : undefined),
};

async function register(labels: Record<string, string>): Promise<Resource> {
  const written: Resource[] = [];
  const reg = new WorkloadAutoRegistration({
    sink: { register: async (e) => void written.push(e), unregister: async () => true },
    snapshot: () => snapshot,
    controller: 'cp',
    log: () => {},
  });
  const info = {
    id: 'sidecar~10.1.2.3~echo-b.default~default.svc.cluster.local',
    metadata: { NAMESPACE: 'default', AUTO_REGISTER_GROUP: 'echo', INSTANCE_IPS: '10.1.2.3', LABELS: labels },
    node: {},
  } as unknown as ProxyInfo;
  reg.connected(info);
  reg.close();
  await Promise.resolve();
  assert.equal(written.length, 1);
  return written[0];
}

test("the proxy's locality labels become the entry's locality", async () => {
  const e = await register({ app: 'echo', 'istio-locality': 'region1.zone-b' });
  const spec = e.spec as { address: string; locality: string; labels: Record<string, string> };
  assert.equal(spec.address, '10.1.2.3');
  assert.equal(spec.locality, 'region1/zone-b');
  assert.equal(spec.labels['istio-locality'], 'region1.zone-b');
});

test('a proxy without a locality keeps the template one', async () => {
  const e = await register({ app: 'echo' });
  assert.equal((e.spec as { locality: string }).locality, 'template/zone');
});
