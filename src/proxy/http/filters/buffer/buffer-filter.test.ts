// envoy.filters.http.buffer through the proxy: the upstream gets the whole body with a content-length,
// bodies over max_request_bytes get 413 (declared or streamed), routes can disable or override it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
  type Backend,
} from '../../../test-util.js';
import { exchange } from '../../hcm/raw-wire.js';
import { compileBuffer, compileBufferPerRoute } from './buffer-config.js';

const BUFFER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer';
const PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute';

describe('buffer filter config', () => {
  it('requires max_request_bytes', () => {
    assert.throws(() => compileBuffer({}), /maxRequestBytes: required/);
    assert.equal(compileBuffer({ maxRequestBytes: { value: 10 } }).maxRequestBytes, 10);
    assert.throws(() => compileBufferPerRoute({}), /disabled: true or a buffer/);
  });
});

describe('buffer filter', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    backend = await startBackend('b');
    const routes = routeConfig('r', [
      {
        match: { prefix: '/off' },
        route: { cluster: 'b' },
        typedPerFilterConfig: { 'envoy.filters.http.buffer': { '@type': PER_ROUTE_TYPE, disabled: true } },
      },
      {
        match: { prefix: '/big' },
        route: { cluster: 'b' },
        typedPerFilterConfig: {
          'envoy.filters.http.buffer': { '@type': PER_ROUTE_TYPE, buffer: { maxRequestBytes: 100_000 } },
        },
      },
      { match: { prefix: '/' }, route: { cluster: 'b' } },
    ]);
    const filters = [
      { name: 'envoy.filters.http.buffer', typedConfig: { '@type': BUFFER_TYPE, maxRequestBytes: 16 } },
      ROUTER,
    ];
    proxy = await startProxy(
      [httpListener('l', hcm(routes, { httpFilters: filters }))],
      [staticCluster('b', [backend.port])],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('forwards a chunked body under the limit whole, with a content-length', async () => {
    const got = await exchange(
      port,
      'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    assert.match(got.toString(), /^HTTP\/1\.1 200 /);
    const seen = backend.seen.at(-1)!;
    assert.equal(seen.body, 'hello world');
    assert.equal(seen.headers['content-length'], '11');
  });

  it('answers 413 to a declared length over max_request_bytes', async () => {
    const r = await get(port, '/up', { 'content-type': 'text/plain' }, 'POST', 'x'.repeat(17));
    assert.equal(r.status, 413);
    assert.equal(r.body, 'Payload Too Large');
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    const before = backend.seen.length;
    const got = await exchange(
      port,
      'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n',
    );
    assert.match(got.toString(), /^HTTP\/1\.1 413 /);
    assert.equal(backend.seen.length, before, 'the oversized request reached the upstream');
    const stats = (await admin(proxy, '/stats?filter=downstream_rq_too_large')).body;
    assert.match(stats, /downstream_rq_too_large: [1-9]/);
  });

  it('honours BufferPerRoute: disabled, and a larger buffer', async () => {
    assert.equal((await get(port, '/off', {}, 'POST', 'y'.repeat(1000))).status, 200);
    assert.equal((await get(port, '/big', {}, 'POST', 'z'.repeat(50_000))).status, 200);
    assert.equal(backend.seen.at(-1)?.body.length, 50_000);
  });
});
