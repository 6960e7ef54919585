// proxy-status: the states istioctl shows, computed from /debug/syncz, against a real `mizzen server`
// with two real ADS clients (Mizzen's proxy client, and a raw gRPC stream that ACKs only when told).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { formatProxyStatus, nackLines, proxyStatusRows, typeSyncState } from './proxy-status.js';
import { runMizzen } from './test-util.js';
import { startServer, waitFor, type ServerProcess } from './server-test-util.js';
import { httpGet } from '../local/readiness.js';
import { AdsClient } from '../xds/ads-client.js';
import { adsServiceConstructor } from '../xds/ads-service.js';
import type { DiscoveryRequestMessage, DiscoveryResponseMessage } from '../xds/ads-service.js';
import type { CanonicalObject } from '../xds/protos.js';
import { structFromJson } from '../xds/struct.js';
import { TypeUrl } from '../xds/type-urls.js';

const C = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const E = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const R = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

test('proxy-status states: SYNCED when the last sent is ACKed, STALE with why, NOT SENT; VERSION', () => {
  const syncz = [
    {
      id: 'sidecar~127.1.0.2~reviews-v1-0.default~default.svc.cluster.local',
      metadata: { CLUSTER_ID: 'Kubernetes' },
      controlPlaneVersion: '0.1.0',
      types: {
        [C]: { sent: '3', acked: '3', nonce: 'c3' },
        [L]: { sent: '4', acked: '2', nonce: 'l4' },
        [E]: { sent: '5', acked: '', nonce: 'e5' },
        // An old NACK does not make a later ACKed response stale; a NACK of the last one does.
        [R]: {
          sent: '7',
          acked: '6',
          nonce: 'r7',
          lastNack: { version: '7', nonce: 'r7', message: 'bad\n route' },
        },
      },
    },
    {
      id: 'router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local',
      metadata: { CLUSTER_ID: 'east', ISTIO_VERSION: '1.24.2' },
      controlPlaneVersion: '0.1.0',
      types: {
        [C]: { sent: '9', acked: '9', nonce: 'c9', lastNack: { version: '8', nonce: 'c8', message: 'x' } },
      },
    },
    { id: 'grpc-client', types: {} },
  ];
  assert.deepEqual(proxyStatusRows(syncz, '127.0.0.1:15014'), [
    [
      'grpc-client',
      'Kubernetes',
      'NOT SENT',
      'NOT SENT',
      'NOT SENT',
      'NOT SENT',
      'NOT SENT',
      '127.0.0.1:15014',
      '-',
    ],
    [
      'istio-ingressgateway-0.istio-system',
      'east',
      'SYNCED',
      'NOT SENT',
      'NOT SENT',
      'NOT SENT',
      'NOT SENT',
      '127.0.0.1:15014',
      '1.24.2',
    ],
    [
      'reviews-v1-0.default',
      'Kubernetes',
      'SYNCED',
      'STALE (not acked)',
      'STALE (Never Acknowledged)',
      'STALE (NACK)',
      'NOT SENT',
      '127.0.0.1:15014',
      '0.1.0',
    ],
  ]);
  assert.deepEqual(nackLines(syncz), ['reviews-v1-0.default RDS version 7: bad route']);
  // A server that does not report nonces: the NACK's version decides.
  assert.equal(typeSyncState({ sent: '2', acked: '1', lastNack: { version: '2' } }), 'STALE (NACK)');
  assert.equal(typeSyncState({ sent: '2', acked: '1', lastNack: { version: '1' } }), 'STALE (not acked)');
  assert.equal(typeSyncState(undefined), 'NOT SENT');
  const text = formatProxyStatus(syncz, 'x').split('\n');
  assert.match(text[0], /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION$/);
  assert.equal(text[4], '');
  assert.match(text[5], /^NACKs/);
  assert.equal(text[6], '  reviews-v1-0.default RDS version 7: bad route');
});

test('proxy-status: on VHDS the RDS column shows the virtual hosts state when the route configs are SYNCED', () => {
  const V = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
  const proxy = (vhds: Record<string, unknown>): unknown => ({
    id: 'sidecar~127.1.0.4~productpage-0.default~default.svc.cluster.local',
    types: { [R]: { sent: '3', acked: '3', nonce: 'r3' }, [V]: vhds },
  });
  const rds = (syncz: unknown): string => proxyStatusRows([syncz], 'x')[0][5];
  assert.equal(rds(proxy({ sent: '5', acked: '5', nonce: 'v5' })), 'SYNCED');
  assert.equal(rds(proxy({ sent: '5', acked: '4', nonce: 'v5' })), 'STALE (not acked) (VHDS)');
  const nacked = proxy({
    sent: '5',
    acked: '4',
    nonce: 'v5',
    lastNack: { version: '5', nonce: 'v5', message: 'virtual host 80/x: bad' },
  });
  assert.equal(rds(nacked), 'STALE (NACK) (VHDS)');
  assert.deepEqual(nackLines([nacked]), ['productpage-0.default VHDS version 5: virtual host 80/x: bad']);
});

const SERVICE = (name: string): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 9080 }] }
`;

/** Every `routeConfigName` in the listeners (the RDS names a proxy subscribes to). */
function routeNames(listeners: CanonicalObject[]): string[] {
  return [...JSON.stringify(listeners).matchAll(/"routeConfigName":"([^"]+)"/g)].map((m) => m[1]);
}

/** A raw ADS stream: requests one type and answers only when the test says so. */
class RawAdsStream {
  readonly responses: DiscoveryResponseMessage[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage>;

  constructor(server: string, id: string, typeUrl: string) {
    const Ctor = adsServiceConstructor();
    this.client = new Ctor(server, grpc.credentials.createInsecure());
    this.call = (this.client as any).StreamAggregatedResources();
    this.call.on('data', (r: DiscoveryResponseMessage) => this.responses.push(r));
    this.call.on('error', () => {});
    this.call.write({
      node: { id, metadata: structFromJson({ NAMESPACE: 'default', LABELS: { app: 'ratings' } }) },
      typeUrl,
    });
  }

  /** ACKs the latest response. */
  ack(): void {
    const r = this.responses.at(-1)!;
    this.call.write({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** /debug/syncz, or null when it did not answer 200 within 5 s (a starved server: the poll asks again). */
async function syncz(server: ServerProcess, last: { status: number }): Promise<unknown> {
  const r = await httpGet(`http://${server.debug}/debug/syncz`, 5000);
  last.status = r.status;
  return r.status === 200 ? JSON.parse(r.body) : null;
}

/** Polls the server until the proxy-status rows satisfy `ok`; returns them. */
async function rowsWhen(server: ServerProcess, what: string, ok: (rows: Map<string, string[]>) => boolean) {
  const last = { status: 0 };
  try {
    return await waitFor(
      what,
      async () => {
        const body = await syncz(server, last);
        if (body === null) return null;
        const rows = new Map(proxyStatusRows(body, server.debug).map((r) => [r[0], r]));
        return ok(rows) ? rows : null;
      },
      30_000,
    );
  } catch (err) {
    assert.fail(
      `${(err as Error).message}; /debug/syncz last answered ${last.status}; server stderr:\n${server.stderr()}`,
    );
  }
}

test('mizzen proxy-status against a real server: SYNCED, STALE (NACK), STALE (Never Acknowledged), STALE (not acked), the version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-ps-'));
  writeFileSync(join(dir, 'reviews.yaml'), SERVICE('reviews'));
  const server = await startServer(dir);
  const proxy = new AdsClient({
    server: server.xds,
    node: {
      id: 'sidecar~127.1.0.2~productpage-v1-0.default~default.svc.cluster.local',
      metadata: { NAMESPACE: 'default', LABELS: { app: 'productpage' }, CLUSTER_ID: 'Kubernetes' },
    },
    log: () => {},
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.CLUSTER)
        proxy.subscribe(
          TypeUrl.ENDPOINT,
          resources.filter((c) => c.type === 'EDS').map((c) => c.name as string),
        );
      if (typeUrl === TypeUrl.LISTENER) proxy.subscribe(TypeUrl.ROUTE, routeNames(resources));
      if (typeUrl === TypeUrl.ROUTE)
        return new Error('route 9080: field typedPerFilterConfig is not supported');
    },
  });
  let raw: RawAdsStream | null = null;
  t.after(async () => {
    proxy.close();
    raw?.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  proxy.start();
  raw = new RawAdsStream(
    server.xds,
    'sidecar~127.1.0.3~ratings-v1-0.default~default.svc.cluster.local',
    TypeUrl.CLUSTER,
  );

  await rowsWhen(server, 'the NACK and the unanswered response', (rows) => {
    const p = rows.get('productpage-v1-0.default');
    const r = rows.get('ratings-v1-0.default');
    return p?.[5] === 'STALE (NACK)' && p[4] === 'SYNCED' && r?.[2] === 'STALE (Never Acknowledged)';
  });
  const first = await runMizzen(['proxy-status', '--server', server.debug]);
  assert.equal(first.code, 0, first.err);
  const lines = first.out.trimEnd().split('\n');
  assert.match(lines[0], /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION$/);
  const cells = (line: string): string[] => line.split(/ {3,}/);
  assert.deepEqual(cells(lines[1]), [
    'productpage-v1-0.default',
    'Kubernetes',
    'SYNCED',
    'SYNCED',
    'SYNCED',
    'STALE (NACK)',
    'NOT SENT',
    server.debug,
    VERSION,
  ]);
  assert.deepEqual(cells(lines[2]), [
    'ratings-v1-0.default',
    'Kubernetes',
    'STALE (Never Acknowledged)',
    'NOT SENT',
    'NOT SENT',
    'NOT SENT',
    'NOT SENT',
    server.debug,
    VERSION,
  ]);
  assert.match(
    first.out,
    /\n {2}productpage-v1-0\.default RDS version \S+: route 9080: field typedPerFilterConfig is not supported\n/,
  );

  // The raw client ACKs; then a new Service makes the server push CDS again, which only the proxy ACKs.
  raw.ack();
  await rowsWhen(server, 'the ACK', (rows) => rows.get('ratings-v1-0.default')?.[2] === 'SYNCED');
  const pushed = raw.responses.length;
  writeFileSync(join(dir, 'details.yaml'), SERVICE('details'));
  await waitFor('the CDS push of the new Service', () => raw.responses.length > pushed, 10_000);
  const rows = await rowsWhen(
    server,
    'the proxy ACKing the push',
    (r) =>
      r.get('productpage-v1-0.default')?.[2] === 'SYNCED' && r.get('ratings-v1-0.default')?.[2] !== 'SYNCED',
  );
  assert.equal(rows.get('ratings-v1-0.default')![2], 'STALE (not acked)');
  const json = await runMizzen(['proxy-status', '--server', server.debug, '-o', 'json']);
  const entries = JSON.parse(json.out) as Array<{ id: string; controlPlaneVersion: string; types: object }>;
  assert.equal(entries.length, 2);
  for (const e of entries) assert.equal(e.controlPlaneVersion, VERSION);
  const again = await runMizzen(['proxy-status', '--server', server.debug]);
  assert.match(again.out, /^ratings-v1-0\.default\s+Kubernetes\s+STALE \(not acked\)\s+NOT SENT\s/m);
});
