// End to end: `mizzen server` as a child process, a real ADS client, config changes pushed live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdsClient } from '../xds/ads-client.js';
import { TypeUrl } from '../xds/type-urls.js';
import type { CanonicalObject } from '../xds/protos.js';
import { simulate } from '../pilot/test-util.js';
import { startServer, waitFor } from './server-test-util.js';
import { runMizzen } from './test-util.js';

const SERVICES = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1-0, labels: { app: reviews, version: v1 } }
spec: { containers: [{ name: reviews, ports: [{ containerPort: 9080 }] }] }
status: { podIP: 127.1.0.2 }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v2-0, labels: { app: reviews, version: v2 } }
spec: { containers: [{ name: reviews, ports: [{ containerPort: 9080 }] }] }
status: { podIP: 127.1.0.3 }
---
apiVersion: v1
kind: Pod
metadata: { name: productpage-v1-0, labels: { app: productpage } }
spec: { containers: [{ name: productpage, ports: [{ containerPort: 9080 }] }] }
status: { podIP: 127.1.0.4 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

const vs = (subset: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: ${subset} }
`;

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return res.json();
}

test('mizzen server serves listeners, clusters, routes and endpoints over ADS and pushes config changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-server-'));
  writeFileSync(join(dir, 'services.yaml'), SERVICES);
  writeFileSync(join(dir, 'reviews-vs.yaml'), vs('v1'));
  const server = await startServer(dir);
  const state = new Map<string, CanonicalObject[]>();
  const client = new AdsClient({
    server: server.xds,
    node: {
      id: 'sidecar~127.1.0.4~productpage-v1-0.default~default.svc.cluster.local',
      metadata: {
        NAMESPACE: 'default',
        INTERCEPTION_MODE: 'NONE',
        MIZZEN_APP_HOST: '127.2.0.4',
        INSTANCE_IPS: '127.1.0.4',
      },
    },
    onResources: (typeUrl, resources) => {
      state.set(typeUrl, resources);
    },
    log: () => {},
  });
  try {
    client.start();
    client.subscribe(TypeUrl.ROUTE, ['http_proxy']);
    client.subscribe(TypeUrl.ENDPOINT, ['outbound|9080|v2|reviews.default.svc.cluster.local']);
    // The first response may take seconds on a loaded 2-core box; later pushes are debounced by 100 ms.
    const listeners = await waitFor('listeners', () => state.get(TypeUrl.LISTENER), 20000);
    assert.deepEqual(listeners.map((l) => l.name).sort(), ['127.1.0.4_15001', '127.1.0.4_9080']);
    const clusters = await waitFor('clusters', () => state.get(TypeUrl.CLUSTER), 20000);
    const names = clusters.map((c) => c.name);
    for (const n of [
      'outbound|9080|v1|reviews.default.svc.cluster.local',
      'inbound|9080||',
      'PassthroughCluster',
    ])
      assert.ok(names.includes(n), `missing cluster ${n} in ${names.join(', ')}`);
    const inbound = clusters.find((c) => c.name === 'inbound|9080||')!;
    assert.deepEqual(
      (inbound.loadAssignment as any).endpoints[0].lbEndpoints[0].endpoint.address.socketAddress,
      {
        address: '127.2.0.4',
        portValue: 9080,
      },
    );
    const eds = await waitFor('endpoints', () => state.get(TypeUrl.ENDPOINT), 20000);
    assert.equal(
      (eds[0].endpoints as any)[0].lbEndpoints[0].endpoint.address.socketAddress.address,
      '127.1.0.3',
    );
    const route = await waitFor('route', () => state.get(TypeUrl.ROUTE)?.[0], 20000);
    assert.equal(
      simulate(route, { host: 'reviews:9080', path: '/' })?.cluster,
      'outbound|9080|v1|reviews.default.svc.cluster.local',
    );

    // A change is pushed without restart.
    writeFileSync(join(dir, 'reviews-vs.yaml'), vs('v2'));
    await waitFor('the pushed route', () => {
      const rc = state.get(TypeUrl.ROUTE)?.[0];
      return (
        rc &&
        simulate(rc, { host: 'reviews:9080', path: '/' })?.cluster ===
          'outbound|9080|v2|reviews.default.svc.cluster.local'
      );
    });

    // An invalid edit is rejected with its position; the last good version keeps serving.
    writeFileSync(
      join(dir, 'reviews-vs.yaml'),
      vs('v1').replace('hosts: [reviews]', 'hosts: [reviews]\n  htp: []'),
    );
    const configz = await waitFor('the rejection in configz', async () => {
      const c = await getJson(`http://${server.debug}/debug/configz`);
      return c.files.some((f: any) => f.state === 'rejected') ? c : null;
    });
    const rejected = configz.files.find((f: any) => f.state === 'rejected');
    assert.match(rejected.file, /reviews-vs\.yaml$/);
    assert.match(rejected.diagnostics[0].text, /reviews-vs\.yaml:\d+:\d+: .*htp/);
    const vsStatus = configz.resources.find((r: any) => r.kind === 'VirtualService');
    assert.equal(vsStatus.resource.spec.http[0].route[0].destination.subset, 'v2');
    const rc = state.get(TypeUrl.ROUTE)![0];
    assert.equal(
      simulate(rc, { host: 'reviews:9080', path: '/' })?.cluster,
      'outbound|9080|v2|reviews.default.svc.cluster.local',
    );

    const syncz = await getJson(`http://${server.debug}/debug/syncz`);
    assert.equal(syncz.length, 1);
    assert.match(syncz[0].id, /productpage-v1-0/);
    const dump = await getJson(`http://${server.debug}/debug/config_dump?proxyID=productpage-v1-0.default`);
    assert.ok(dump.routes.some((r: any) => r.name === 'http_proxy'));
    const metrics = await (await fetch(`http://${server.debug}/metrics`)).text();
    assert.match(metrics, /^pilot_xds 1$/m);
    assert.match(metrics, /^pilot_xds_pushes\{type="rds"\} [1-9]/m);
    assert.match(metrics, /^pilot_services 1$/m);
    assert.match(metrics, /^pilot_virt_services 1$/m);
    assert.match(metrics, /^pilot_config_rejected_files 1$/m);
    // The first load adds the VirtualService; the edit to v2 updates it; the rejected edit is no event.
    assert.match(metrics, /^pilot_k8s_cfg_events\{type="VirtualService",event="add"\} 1$/m);
    assert.match(metrics, /^pilot_k8s_cfg_events\{type="VirtualService",event="update"\} 1$/m);
    const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(rss > 10 * 1024 * 1024 && rss < 8 * 1024 ** 3, `process_resident_memory_bytes ${rss}`);
    assert.match(metrics, /^nodejs_heap_size_used_bytes [1-9]\d*$/m);
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mizzen server keeps connections alive as istiod does unless told otherwise; bad keepalive flags are usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-keepalive-'));
  try {
    const dflt = await startServer(dir);
    try {
      assert.match(
        dflt.stdout(),
        /xds keepalive: PING every 30s, a connection that answers none within 10s is closed; connections get a GOAWAY after 30m ±10% \(streams closed 10s later\)/,
      );
      assert.match(
        dflt.stdout(),
        /xds send timeout: a proxy that takes no byte of a response for 30s is disconnected/,
      );
    } finally {
      await dflt.stop();
    }
    const off = await startServer(dir, [
      '--keepalive-interval',
      '0',
      '--keepalive-max-server-connection-age',
      '0',
      '--xds-send-timeout',
      '0',
    ]);
    try {
      assert.match(off.stdout(), /xds keepalive: no PINGs; no maximum connection age/);
      assert.match(off.stdout(), /xds send timeout: none/);
    } finally {
      await off.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = await runMizzen(['server', '--config', '.', '--keepalive-interval', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--keepalive-interval must be a duration like 30s \(0 turns it off\), got "soon"/);
  const zero = await runMizzen(['server', '--config', '.', '--keepalive-timeout', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.err, /--keepalive-timeout must be a duration like 30s, got "0"/);
  const send = await runMizzen(['server', '--config', '.', '--xds-send-timeout', 'later']);
  assert.equal(send.code, 2);
  assert.match(send.err, /--xds-send-timeout must be a duration like 30s \(0 turns it off\), got "later"/);
});
