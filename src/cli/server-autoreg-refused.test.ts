// A `mizzen server --config` keeps no registrations: a VM proxy asking for WorkloadEntry
// auto-registration (AUTO_REGISTER_GROUP) is told so in the server log, once, instead of nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdsClient } from '../xds/ads-client.js';
import { TypeUrl } from '../xds/type-urls.js';
import { startServer, waitFor } from './server-test-util.js';

const GROUP = `
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: reviews-vm, namespace: default }
spec:
  metadata: { labels: { app: reviews } }
  template: { serviceAccount: reviews }
`;

test('mizzen server --config warns that a proxy asking for auto-registration is not registered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-autoreg-'));
  writeFileSync(join(dir, 'group.yaml'), GROUP);
  const server = await startServer(dir);
  const clients: AdsClient[] = [];
  try {
    let listeners = 0;
    for (let i = 0; i < 2; i++) {
      const client = new AdsClient({
        server: server.xds,
        node: {
          id: 'sidecar~10.0.0.5~vm-1.default~default.svc.cluster.local',
          metadata: { NAMESPACE: 'default', AUTO_REGISTER_GROUP: 'reviews-vm', INSTANCE_IPS: '10.0.0.5' },
        },
        onResources: (typeUrl) => {
          if (typeUrl === TypeUrl.LISTENER) listeners++;
        },
        log: () => {},
      });
      clients.push(client);
      client.start();
    }
    // Both streams are served (the proxy keeps working)...
    await waitFor('both proxies got listeners', () => listeners >= 2, 20_000);
    const line =
      /auto-registration: proxy sidecar~10\.0\.0\.5~vm-1\.default~default\.svc\.cluster\.local asks to join WorkloadGroup reviews-vm \(AUTO_REGISTER_GROUP\), but --config serves a folder and writes nothing to it: no WorkloadEntry is written for it; run mizzen server --etcd/;
    const logs = (): string => server.stdout() + server.stderr();
    await waitFor('the warning', () => line.test(logs()), 20_000);
    // ...and the same proxy is told once, not per stream.
    assert.equal(logs().split('auto-registration: proxy').length - 1, 1, logs());
  } finally {
    for (const c of clients) c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
