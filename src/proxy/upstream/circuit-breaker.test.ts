// Circuit breaking through a real proxy: max_requests / max_connections + max_pending_requests
// overflow as 503 UO with x-envoy-overloaded and Envoy's overflow stats.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
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
} from '../test-util.js';

describe('circuit breakers', () => {
  let slow: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('done'), 400);
    });
    const routes = routeConfig('r', [
      { match: { prefix: '/rq' }, route: { cluster: 'max-requests' } },
      { match: { prefix: '/cx' }, route: { cluster: 'max-connections' } },
    ]);
    proxy = await startProxy(
      [httpListener('l', hcm(routes))],
      [
        staticCluster('max-requests', [slow.port], {
          circuitBreakers: { thresholds: [{ maxRequests: { value: 2 } }] },
        }),
        staticCluster('max-connections', [slow.port], {
          circuitBreakers: {
            thresholds: [{ maxConnections: { value: 1 }, maxPendingRequests: { value: 1 } }],
          },
        }),
      ],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await slow.close();
  });

  it('max_requests overflow answers 503 UO with x-envoy-overloaded', async () => {
    const rs = await Promise.all(Array.from({ length: 5 }, () => get(port, '/rq')));
    const overflow = rs.filter((r) => r.status === 503);
    assert.equal(rs.filter((r) => r.status === 200).length, 2);
    assert.equal(overflow.length, 3);
    assert.equal(overflow[0].headers['x-envoy-overloaded'], 'true');
    assert.equal(
      overflow[0].body,
      'upstream connect error or disconnect/reset before headers. reset reason: overflow',
    );
    const s = (await admin(proxy, '/stats?filter=max-requests')).body;
    assert.match(s, /cluster\.max-requests\.upstream_rq_pending_overflow: 3$/m);
  });

  it('max_connections 1 + max_pending_requests 1: one in flight, one queued, the rest overflow', async () => {
    const rs = await Promise.all(Array.from({ length: 4 }, () => get(port, '/cx')));
    const ok = rs.filter((r) => r.status === 200).length;
    assert.equal(ok, 2);
    assert.equal(rs.filter((r) => r.status === 503 && r.headers['x-envoy-overloaded'] === 'true').length, 2);
    // The queued request waited for the first to finish on the single connection (the pending
    // counter below), rather than opening a second one.
    const s = (await admin(proxy, '/stats?filter=max-connections')).body;
    assert.match(s, /cluster\.max-connections\.upstream_rq_pending_overflow: 2$/m);
    assert.match(s, /cluster\.max-connections\.upstream_rq_pending_total: 1$/m);
    assert.match(s, /cluster\.max-connections\.upstream_cx_total: 1$/m);
  });
});
