// Gateway readiness: which route clusters must have endpoints, read from real admin output shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadText } from '../api/load.js';
import {
  clustersWithoutEndpoints,
  hostCounts,
  routeClusters,
  servicesWithPods,
} from './gateway-readiness.js';

const dump = {
  configs: [
    { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump' },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      dynamicRouteConfigs: [
        {
          routeConfig: {
            name: 'http.8080',
            virtualHosts: [
              {
                routes: [
                  { route: { cluster: 'outbound|9080||productpage.default.svc.cluster.local' } },
                  {
                    route: {
                      weightedClusters: {
                        clusters: [
                          { name: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
                          { name: 'outbound|9080||ratings.default.svc.cluster.local' },
                        ],
                      },
                    },
                  },
                  { directResponse: { status: 200 } },
                  { route: { cluster: 'outbound|80||httpbin.org' } },
                ],
              },
            ],
          },
        },
      ],
    },
  ],
};

const clusters = {
  clusterStatuses: [
    { name: 'outbound|9080||productpage.default.svc.cluster.local', hostStatuses: [] },
    { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', hostStatuses: [] },
    { name: 'outbound|9080||ratings.default.svc.cluster.local', hostStatuses: [{}, {}] },
    { name: 'outbound|80||httpbin.org', hostStatuses: [] },
  ],
};

test('route clusters come from route.cluster and weighted clusters; host counts from /clusters', () => {
  assert.deepEqual(
    [...routeClusters(dump)].sort(),
    [
      'outbound|80||httpbin.org',
      'outbound|9080|v1|reviews.default.svc.cluster.local',
      'outbound|9080||productpage.default.svc.cluster.local',
      'outbound|9080||ratings.default.svc.cluster.local',
    ].sort(),
  );
  assert.equal(hostCounts(clusters).get('outbound|9080||ratings.default.svc.cluster.local'), 2);
  assert.deepEqual(routeClusters({}), new Set());
});

test('services with pods: the selector must pick a pod in the same namespace', () => {
  const r = loadText(
    `apiVersion: v1
kind: Service
metadata: { name: productpage, namespace: default }
spec: { selector: { app: productpage }, ports: [{ port: 9080, name: http }] }
---
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: other }
spec: { selector: { app: ratings }, ports: [{ port: 9080, name: http }] }
---
apiVersion: v1
kind: Service
metadata: { name: external, namespace: default }
spec: { ports: [{ port: 80, name: http }] }
`,
    't.yaml',
  );
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error').length, 0);
  const pods: { namespace: string; labels: Record<string, string> }[] = [
    { namespace: 'default', labels: { app: 'productpage', version: 'v1' } },
    { namespace: 'default', labels: { app: 'ratings' } },
  ];
  assert.deepEqual([...servicesWithPods(r.resources, pods)], ['productpage.default.svc.cluster.local']);
});

test('a gateway is waiting only on non-subset route clusters of backed services that have no hosts', async () => {
  const admin: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url?.startsWith('/clusters') ? clusters : dump));
  });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  try {
    const addr = `127.0.0.1:${(admin.address() as AddressInfo).port}`;
    const backed = new Set([
      'productpage.default.svc.cluster.local',
      'reviews.default.svc.cluster.local',
      'ratings.default.svc.cluster.local',
    ]);
    assert.deepEqual(await clustersWithoutEndpoints(addr, backed), [
      'outbound|9080||productpage.default.svc.cluster.local',
    ]);
    assert.deepEqual(
      await clustersWithoutEndpoints(addr, new Set()),
      [],
      'no local pods: nothing to wait for',
    );
  } finally {
    admin.closeAllConnections();
    await new Promise<void>((r) => admin.close(() => r()));
  }
  assert.equal(await clustersWithoutEndpoints('127.0.0.1:1', new Set()), null, 'admin not answering');
});
