// The config-health view: states from validation and analyzers, reach per proxy, sync per xDS type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../xds/type-urls.js';
import type { ProxySyncStatus } from '../../xds/ads-server.js';
import { configHealth, shortTypeName } from './config-health.js';

const PROXY = 'sidecar~127.1.0.7~productpage-v1-0.default~default.svc.cluster.local';

function proxy(types: ProxySyncStatus['types']): ProxySyncStatus {
  return { id: PROXY, connectionId: '1', metadata: {}, connectedAt: 1, types };
}

const synced = { sent: 'v2', acked: 'v2', nonce: 'n', resourceNames: [], resourceCount: 3 };

test('resources: applied, rejected with file:line:col, analyzer warnings with IST codes, and reach', () => {
  const h = configHealth({
    version: 7,
    status: {
      files: [],
      resources: [
        {
          resource: 'VirtualService default/reviews',
          kind: 'VirtualService',
          namespace: 'default',
          name: 'reviews',
          state: 'ok',
          file: 'vs.yaml',
          line: 1,
          diagnostics: [],
        },
        {
          resource: 'DestinationRule default/bad',
          state: 'rejected',
          file: 'bad.yaml',
          line: 4,
          diagnostics: [
            {
              severity: 'error',
              file: 'bad.yaml',
              line: 9,
              col: 7,
              path: 'spec.trafficPolicy.loadBalancer.simple',
              message: 'must be one of …',
              resource: 'DestinationRule default/bad',
            },
          ],
        },
      ],
    },
    analysis: [
      {
        severity: 'warning',
        file: 'vs.yaml',
        line: 12,
        col: 9,
        path: 'spec.http[0].route[0].destination.subset',
        message: 'Referenced host+subset in destinationrule not found',
        code: 'IST0101',
        resource: 'VirtualService default/reviews',
      },
    ],
    proxies: [],
    reach: new Map([[PROXY, new Set(['VirtualService default/reviews'])]]),
  });
  const [vs, bad] = h.resources;
  assert.equal(vs.state, 'warning', 'an analyzer warning makes an applied resource a warning');
  assert.equal(vs.diagnostics[0].code, 'IST0101');
  assert.deepEqual(vs.reaches, [PROXY]);
  assert.equal(bad.state, 'rejected');
  assert.equal(
    bad.diagnostics[0].text,
    'bad.yaml:9:7: spec.trafficPolicy.loadBalancer.simple: must be one of …',
  );
  assert.deepEqual(bad.reaches, []);
});

test('proxies: per-type SYNCED / STALE / NACKED with the NACK detail, in CDS EDS LDS RDS order', () => {
  const h = configHealth({
    version: 1,
    status: { files: [], resources: [] },
    analysis: [],
    reach: new Map(),
    proxies: [
      proxy({
        [TypeUrl.LISTENER]: {
          ...synced,
          sent: 'v3',
          acked: 'v2',
          lastNack: { version: 'v3', nonce: 'n3', message: 'bad listener', at: 5 },
        },
        [TypeUrl.ROUTE]: { ...synced, sent: 'v3', acked: 'v2' },
        [TypeUrl.CLUSTER]: synced,
      }),
    ],
  });
  const p = h.proxies[0];
  assert.equal(p.state, 'NACKED');
  assert.deepEqual(
    p.types.map((t) => [t.type, t.state]),
    [
      ['CDS', 'SYNCED'],
      ['LDS', 'NACKED'],
      ['RDS', 'STALE'],
    ],
  );
  assert.equal(p.types[1].nack?.message, 'bad listener');
});

test('an old NACK followed by an ACK of a newer version is SYNCED (the detail is kept)', () => {
  const h = configHealth({
    version: 1,
    status: { files: [], resources: [] },
    analysis: [],
    reach: new Map(),
    proxies: [
      proxy({
        [TypeUrl.CLUSTER]: { ...synced, lastNack: { version: 'v1', nonce: 'x', message: 'm', at: 1 } },
      }),
    ],
  });
  assert.equal(h.proxies[0].state, 'SYNCED');
  assert.equal(h.proxies[0].types[0].nack?.version, 'v1');
});

test('type URLs get their xDS short names', () => {
  assert.equal(shortTypeName(TypeUrl.ENDPOINT), 'EDS');
  assert.equal(shortTypeName(TypeUrl.SECRET), 'SDS');
  assert.equal(shortTypeName('type.googleapis.com/x.Y'), 'type.googleapis.com/x.Y');
});
