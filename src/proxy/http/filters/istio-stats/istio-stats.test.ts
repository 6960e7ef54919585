// istio.stats between two real proxies: Istio's metrics with both workloads' labels on each side, peer
// metadata exchanged without the app or the caller ever seeing the headers.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { structFromJson } from '../../../../xds/struct.js';
import type { Proxy } from '../../../proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  ROUTER,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
  type Backend,
} from '../../../test-util.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

function statsFilter(value: Record<string, unknown>): any {
  return {
    name: 'istio.stats',
    typedConfig: {
      '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
      typeUrl: 'type.googleapis.com/stats.PluginConfig',
      value: structFromJson(value),
    },
  };
}

function metadata(workload: string, app: string, version: string, sa: string): Record<string, unknown> {
  return {
    NAME: `${workload}-abc`,
    NAMESPACE: 'default',
    WORKLOAD_NAME: workload,
    LABELS: { app, version },
    SERVICE_ACCOUNT: sa,
    CLUSTER_ID: 'Kubernetes',
  };
}

/** The value of the first sample line of `metric` whose labels include every `want` pair. */
function sample(text: string, metric: string, want: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('istio.stats', () => {
  let app: Backend;
  let server: Proxy;
  let client: Proxy;
  let port: number;

  before(async () => {
    app = await startBackend('reviews', (_req, res) => {
      res.writeHead(_req.url === '/fail' ? 503 : 200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const inbound = statsFilter({
      direction: 'INBOUND',
      services: [{ host: REVIEWS, name: 'reviews', namespace: 'default' }],
    });
    server = await startProxy(
      [
        httpListener(
          'in',
          hcm(
            routeConfig('inbound|9080||', [{ match: { prefix: '/' }, route: { cluster: 'inbound|9080||' } }]),
            {
              httpFilters: [inbound, ROUTER],
            },
          ),
        ),
      ],
      [staticCluster('inbound|9080||', [app.port])],
      { metadata: metadata('reviews-v2', 'reviews', 'v2', 'bookinfo-reviews'), nodeId: 'sidecar~1~reviews' },
    );
    const cluster = `outbound|9080||${REVIEWS}`;
    client = await startProxy(
      [
        httpListener(
          'out',
          hcm(routeConfig('9080', [{ match: { prefix: '/' }, route: { cluster } }]), {
            httpFilters: [statsFilter({ direction: 'OUTBOUND' }), ROUTER],
          }),
        ),
      ],
      [staticCluster(cluster, [server.listenerPort('in')])],
      {
        metadata: metadata('productpage-v1', 'productpage', 'v1', 'bookinfo-productpage'),
        nodeId: 'sidecar~2~pp',
      },
    );
    port = client.listenerPort('out');
  });

  after(async () => {
    await client.close();
    await server.close();
    await app.close();
  });

  it('keeps the exchange headers from the app and from the caller, even spoofed ones', async () => {
    const r = await get(port, '/ok', { 'x-envoy-peer-metadata': 'spoofed', 'x-envoy-peer-metadata-id': 'x' });
    assert.equal(r.status, 200);
    const seen = app.seen[app.seen.length - 1].headers;
    assert.equal(seen['x-envoy-peer-metadata'], undefined);
    assert.equal(seen['x-envoy-peer-metadata-id'], undefined);
    assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
    assert.equal(r.headers['x-envoy-peer-metadata-id'], undefined);
  });

  it('reports istio_requests_total on both sides with both workloads and the service', async () => {
    await get(port, '/fail');
    const src = (await admin(client, '/stats/prometheus')).body;
    const dst = (await admin(server, '/stats/prometheus')).body;
    const common = {
      source_workload: 'productpage-v1',
      source_app: 'productpage',
      source_version: 'v1',
      source_workload_namespace: 'default',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v2',
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: REVIEWS,
      destination_service_name: 'reviews',
      destination_service_namespace: 'default',
      request_protocol: 'http',
    };
    assert.equal(
      sample(src, 'istio_requests_total', {
        ...common,
        reporter: 'source',
        response_code: '200',
        connection_security_policy: 'unknown',
      }),
      1,
      src,
    );
    assert.equal(
      sample(dst, 'istio_requests_total', {
        ...common,
        reporter: 'destination',
        response_code: '503',
        response_flags: '-',
        connection_security_policy: 'none',
        source_principal: 'unknown',
      }),
      1,
      dst,
    );
    assert.equal(
      sample(dst, 'istio_request_duration_milliseconds_bucket', {
        ...common,
        response_code: '200',
        le: '+Inf',
      }),
      1,
    );
    assert.equal(sample(src, 'istio_response_bytes_count', { ...common, response_code: '200' }), 1);
    assert.match(src, /^# TYPE istio_request_duration_milliseconds histogram$/m);
  });

  it('istio_request_bytes / istio_response_bytes count wire bytes, headers included, as Istio does', async () => {
    const sums = async (): Promise<number[]> => {
      const src = (await admin(client, '/stats/prometheus')).body;
      const dst = (await admin(server, '/stats/prometheus')).body;
      const want = { destination_workload: 'reviews-v2', response_code: '200' };
      return [
        sample(src, 'istio_request_bytes_sum', { ...want, reporter: 'source' }) ?? 0,
        sample(src, 'istio_response_bytes_sum', { ...want, reporter: 'source' }) ?? 0,
        sample(dst, 'istio_request_bytes_sum', { ...want, reporter: 'destination' }) ?? 0,
      ];
    };
    const before = await sums();
    // Exact bytes on the client's side of the proxy, both ways.
    const sent =
      'POST /bytes HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello';
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = net.connect(port, '127.0.0.1', () => s.write(sent));
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assert.match(received.toString('latin1'), /^HTTP\/1\.1 200 /);
    let after = before;
    await waitFor('the request recorded on both sides', async () => {
      after = await sums();
      return after[0] > before[0] && after[2] > before[2];
    });
    assert.equal(
      after[0] - before[0],
      Buffer.byteLength(sent),
      'source request bytes = what the client sent',
    );
    assert.equal(after[1] - before[1], received.length, 'source response bytes = what the client received');
    // The destination saw the client proxy's request: its head (with x-request-id, peer metadata, ...)
    // is larger than the app's, and it is counted.
    assert.ok(
      after[2] - before[2] > Buffer.byteLength(sent),
      `destination request bytes ${after[2] - before[2]}`,
    );
  });

  it('labels the destination unknown when no peer answered (a local reply after connect failures)', async () => {
    await server.close();
    const down = await get(port, '/ok');
    assert.equal(down.status, 503);
    const src = (await admin(client, '/stats/prometheus')).body;
    const line = src
      .split('\n')
      .find(
        (l) =>
          l.startsWith('istio_requests_total{') &&
          l.includes('response_code="503"') &&
          l.includes('destination_workload="unknown"'),
      );
    assert.ok(line, src);
    assert.match(line, /destination_service_name="reviews"/);
    assert.match(line, /response_flags="(UF|URX|UF,URX)"/);
    assert.match(line, / 1$/);
  });
});
