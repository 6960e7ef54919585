// CORS through a real proxy: preflight answered by the proxy, simple requests get allow-origin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../../test-util.js';

describe('cors filter', () => {
  let b: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    b = await startBackend('b');
    const policy = {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      allowOriginStringMatch: [
        { exact: 'https://app.example' },
        { safeRegex: { regex: 'https://.*\\.trusted\\.example' } },
      ],
      allowMethods: 'GET,POST',
      allowHeaders: 'x-custom',
      exposeHeaders: 'x-backend',
      maxAge: '600',
      allowCredentials: { value: true },
    };
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'b' } }], {
      typedPerFilterConfig: { 'envoy.filters.http.cors': policy },
    });
    proxy = await startProxy([httpListener('l', hcm(routes))], [staticCluster('b', [b.port])]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await b.close();
  });

  it('answers a preflight from an allowed origin without calling the backend', async () => {
    const before = b.seen.length;
    const r = await get(
      port,
      '/x',
      { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(r.headers['access-control-allow-headers'], 'x-custom');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(b.seen.length, before);
  });

  it('adds allow-origin and expose-headers to a simple request from a regex-allowed origin', async () => {
    const r = await get(port, '/x', { origin: 'https://a.trusted.example' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.trusted.example');
    assert.equal(r.headers['access-control-expose-headers'], 'x-backend');
  });

  it('adds nothing for a disallowed origin and forwards its preflight', async () => {
    const r = await get(port, '/x', { origin: 'https://evil.example' });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    const before = b.seen.length;
    await get(
      port,
      '/x',
      { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      'OPTIONS',
    );
    assert.equal(b.seen.length, before + 1);
  });
});
