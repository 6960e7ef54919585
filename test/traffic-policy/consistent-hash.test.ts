// Consistent hash with a cookie through the real proxy: DestinationRule consistentHash.httpCookie with a
// ttl → pilot's RING_HASH cluster and route hash policy → the proxy sets the cookie on a first request
// and every request carrying it lands on the same endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { translateHashPolicy } from '../../src/pilot/hash-policy.js';
import type { Proxy } from '../../src/proxy/proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  type Backend,
} from '../../src/proxy/test-util.js';
import { CLUSTER, pilotCluster } from './pilot-cluster.js';

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin }
spec:
  host: httpbin
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: { name: user, path: /, ttl: 60s }
`;

describe('consistent hash by cookie (DestinationRule → pilot → proxy)', () => {
  let backends: Backend[];
  let proxy: Proxy;
  let port: number;

  before(async () => {
    backends = [await startBackend('a'), await startBackend('b'), await startBackend('c')];
    const cluster = pilotCluster(
      DR,
      backends.map((b) => b.port),
    );
    assert.equal(cluster.lbPolicy, 'RING_HASH');
    const hashPolicy = translateHashPolicy({ httpCookie: { name: 'user', path: '/', ttl: '60s' } });
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: CLUSTER, hashPolicy } }]);
    proxy = await startProxy([httpListener('l', hcm(routes))], [cluster]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    for (const b of backends) await b.close();
  });

  it('sets the cookie when absent, then pins the session to one endpoint', async () => {
    const first = await get(port, '/get');
    assert.equal(first.status, 200);
    const sc = first.headers['set-cookie'];
    assert.ok(sc && sc.length === 1, 'one Set-Cookie');
    assert.match(sc[0], /^user="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
    const cookie = sc[0].split(';')[0];
    const pinned = first.headers['x-backend'];
    for (let i = 0; i < 20; i++) {
      const r = await get(port, '/get', { cookie: `other=1; ${cookie}` });
      assert.equal(r.headers['x-backend'], pinned);
      assert.equal(r.headers['set-cookie'], undefined, 'no new cookie once the request has one');
    }
  });

  it('different cookie values spread over the endpoints', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await get(port, '/get', { cookie: `user=session-${i}` });
      seen.add(String(r.headers['x-backend']));
    }
    assert.equal(seen.size, 3);
  });
});
