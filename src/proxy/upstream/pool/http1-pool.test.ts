// The HTTP/1.1 pool keeps upstream connections alive: sequential requests share one connection, a burst's
// connections serve later bursts (no churn under steady load), and max_requests_per_connection retires them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  stat,
  waitFor,
  type Backend,
} from '../../test-util.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

describe('HTTP/1.1 upstream pool', () => {
  let backend: Backend;
  /** TCP connections the backend accepted. */
  let accepted = 0;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    backend = await startBackend('be', (req, res) => {
      // /burst keeps a burst's requests in flight together, so the burst needs one connection each.
      setTimeout(() => res.end('ok'), req.url === '/burst' ? 50 : 0);
    });
    backend.server.on('connection', () => accepted++);
    const routes = routeConfig('r', [
      { match: { prefix: '/limited' }, route: { cluster: 'limited' } },
      { match: { prefix: '/burst' }, route: { cluster: 'burst' } },
      { match: { prefix: '/' }, route: { cluster: 'plain' } },
    ]);
    proxy = await startProxy(
      [httpListener('l', hcm(routes))],
      [
        staticCluster('plain', [backend.port]),
        staticCluster('burst', [backend.port]),
        staticCluster('limited', [backend.port], {
          typedExtensionProtocolOptions: {
            [HTTP_OPTIONS]: {
              '@type': `type.googleapis.com/${HTTP_OPTIONS}`,
              commonHttpProtocolOptions: { maxRequestsPerConnection: { value: 2 } },
              explicitHttpConfig: { httpProtocolOptions: {} },
            },
          },
        }),
      ],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('20 sequential requests (each on a new downstream connection) use one upstream connection', async () => {
    const before = accepted;
    for (let i = 0; i < 20; i++) assert.equal((await get(port, '/one')).status, 200);
    assert.equal(await stat(proxy, 'cluster.plain.upstream_rq_total'), 20);
    assert.equal(await stat(proxy, 'cluster.plain.upstream_cx_total'), 1);
    assert.equal(accepted - before, 1);
  });

  it('bursts of 8 concurrent requests reuse the first burst’s connections', async () => {
    for (let burst = 0; burst < 4; burst++) {
      const rs = await Promise.all(Array.from({ length: 8 }, () => get(port, '/burst')));
      assert.deepEqual(
        rs.map((r) => r.status),
        Array(8).fill(200),
      );
      // The proxy answers once the upstream response ended; wait until it has released the connections.
      await waitFor(
        'the burst released upstream',
        async () => (await stat(proxy, 'cluster.burst.upstream_rq_active')) === 0,
      );
    }
    assert.equal(await stat(proxy, 'cluster.burst.upstream_rq_total'), 32);
    // Never more connections than requests in flight at once: 32 would mean one per request.
    const cx = await stat(proxy, 'cluster.burst.upstream_cx_total');
    assert.ok(cx >= 2 && cx <= 8, `upstream_cx_total ${cx}`);
    assert.equal(await stat(proxy, 'cluster.burst.upstream_cx_destroy'), 0);
  });

  it('max_requests_per_connection 2: 6 sequential requests open 3 connections', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await get(port, '/limited')).status, 200);
    assert.equal(await stat(proxy, 'cluster.limited.upstream_cx_total'), 3);
    // The retired connections closed once their second request ended.
    await waitFor(
      'the retired connections to close',
      async () => (await stat(proxy, 'cluster.limited.upstream_cx_destroy')) >= 2,
    );
  });
});

describe('HTTP/1.1 upstream pool: a kept-alive connection the server dropped', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    const served = new WeakSet<object>();
    backend = await startBackend('be', (req, res) => {
      // Every connection serves one request; a second one on it is dropped without an answer, as a
      // server whose keep-alive timer fired just as the proxy reused the connection.
      if (served.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      res.end('ok');
    });
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'plain' } }]);
    proxy = await startProxy([httpListener('l', hcm(routes))], [staticCluster('plain', [backend.port])]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('the request is sent again once on a new connection and succeeds', async () => {
    assert.equal((await get(port, '/first')).status, 200);
    const second = await get(port, '/second');
    assert.equal(second.status, 200);
    assert.equal(second.body, 'ok');
    assert.equal(await stat(proxy, 'cluster.plain.upstream_cx_total'), 2);
    assert.equal(await stat(proxy, 'cluster.plain.upstream_rq_total'), 2);
    assert.deepEqual(
      backend.seen.map((s) => s.url),
      ['/first', '/second', '/second'],
    );
  });

  it('a POST is not sent again (RFC 9110 §9.2.2): it fails as a reset, and the server saw it once', async () => {
    assert.equal((await get(port, '/warm')).status, 200);
    const before = backend.seen.length;
    // Bodiless, so nothing but the method stops a resend (a streamed body is not replayable anyway).
    const post = await get(port, '/order', { 'content-length': '0' }, 'POST');
    assert.equal(post.status, 503);
    assert.match(
      post.body,
      /^upstream connect error or disconnect\/reset before headers\. reset reason: connection termination$/,
    );
    assert.deepEqual(
      backend.seen.slice(before).map((s) => `${s.method} ${s.url}`),
      ['POST /order'],
    );
    // The next GET is sent again on a fresh connection, as before.
    assert.equal((await get(port, '/after')).status, 200);
  });
});
