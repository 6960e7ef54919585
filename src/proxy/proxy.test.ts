// End-to-end basics through an in-process proxy: routing by header, NR, UH, UF, headers Envoy adds, admin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from './proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from './test-util.js';

describe('proxy basics', () => {
  let v1: Backend;
  let v2: Backend;
  let proxy: Proxy;
  let port: number;
  let deadPort: number;

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    // A port nobody listens on: bind, note, close.
    const tmp = await startBackend('tmp');
    deadPort = tmp.port;
    await tmp.close();
    const routes = routeConfig(
      'local',
      [
        {
          name: 'jason',
          match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
          route: { cluster: 'v2' },
        },
        { name: 'empty', match: { prefix: '/empty' }, route: { cluster: 'empty' } },
        { name: 'dead', match: { prefix: '/dead' }, route: { cluster: 'dead' } },
        { name: 'default', match: { prefix: '/api' }, route: { cluster: 'v1' } },
      ],
      { includeRequestAttemptCount: true },
    );
    proxy = await startProxy(
      [httpListener('l1', hcm(routes, { serverName: 'istio-envoy', useRemoteAddress: true }))],
      [
        staticCluster('v1', [v1.port]),
        staticCluster('v2', [v2.port]),
        staticCluster('empty', []),
        staticCluster('dead', [deadPort]),
      ],
    );
    port = proxy.listenerPort('l1');
  });

  after(async () => {
    await proxy.close();
    await v1.close();
    await v2.close();
  });

  it('routes a header-matched request to v2 and others to v1', async () => {
    const a = await get(port, '/api/x', { 'end-user': 'jason' });
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-backend'], 'v2');
    const b = await get(port, '/api/x', { 'end-user': 'bob' });
    assert.equal(b.headers['x-backend'], 'v1');
  });

  it('adds Envoy headers upstream and downstream', async () => {
    const r = await get(port, '/api/h', { 'x-forwarded-for': '10.9.9.9' });
    assert.equal(r.headers['server'], 'istio-envoy');
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
    const seen = v1.seen.at(-1)!;
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(seen.headers['x-forwarded-for'], '10.9.9.9,127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-envoy-attempt-count'], '1');
    const rid = await get(port, '/api/h', { 'x-request-id': 'keep-me' });
    assert.equal(rid.status, 200);
    assert.equal(v1.seen.at(-1)!.headers['x-request-id'], 'keep-me');
  });

  it('answers 404 NR when no route matches', async () => {
    const r = await get(port, '/nothing');
    assert.equal(r.status, 404);
    assert.equal(r.body, '');
  });

  it('answers 503 UH "no healthy upstream" when the cluster has no endpoints', async () => {
    const r = await get(port, '/empty');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
  });

  it('answers 503 UF when the endpoint refuses connections', async () => {
    const r = await get(port, '/dead');
    assert.equal(r.status, 503);
    assert.equal(
      r.body,
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    );
  });

  it('exposes Envoy stat names on /stats and /stats/prometheus', async () => {
    const s = (await admin(proxy, '/stats')).body;
    assert.match(s, /^cluster\.v1\.upstream_rq_total: [1-9]\d*$/m);
    assert.match(s, /^cluster\.v1\.upstream_rq_2xx: [1-9]\d*$/m);
    assert.match(s, /^cluster\.dead\.upstream_cx_connect_fail: [1-9]\d*$/m);
    assert.match(s, /^http\.test_http\.downstream_rq_total: [1-9]\d*$/m);
    assert.match(s, /^http\.test_http\.no_route: [1-9]\d*$/m);
    const p = (await admin(proxy, '/stats/prometheus')).body;
    assert.match(p, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="v1"\} [1-9]\d*$/m);
    assert.match(
      p,
      /^envoy_cluster_upstream_rq\{envoy_response_code="200",envoy_cluster_name="v1"\} [1-9]\d*$/m,
    );
    assert.match(p, /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="test_http"\} \d+$/m);
  });
});
