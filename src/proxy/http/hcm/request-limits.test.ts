// Envoy's statuses for request heads past the limits, sent as raw bytes: 431 for too many or too large
// headers, 400 without or with two Host headers, 426 for HTTP/1.0, 501 for codings other than chunked,
// a local reply for CONNECT; and local 5xx replies charged to the cluster's upstream_rq_5xx.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
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
} from '../../test-util.js';
import { exchange } from './raw-wire.js';

/** Status code of the first response in `bytes`, 0 when none. */
function statusOf(bytes: Buffer): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(bytes.toString())?.[1] ?? 0);
}

describe('request limits and codec checks', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;
  let http10Port: number;

  before(async () => {
    backend = await startBackend('b');
    const routes = routeConfig('r', [
      { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
      { match: { prefix: '/' }, route: { cluster: 'b' } },
    ]);
    proxy = await startProxy(
      [
        httpListener(
          'h',
          hcm(routes, { maxRequestHeadersKb: 2, commonHttpProtocolOptions: { maxHeadersCount: 10 } }),
        ),
        httpListener('h10', hcm(routes, { httpProtocolOptions: { acceptHttp_10: true } })),
      ],
      // A cluster whose only endpoint refuses connections: local 503 UF.
      [staticCluster('b', [backend.port]), staticCluster('dead', [1])],
    );
    port = proxy.listenerPort('h');
    http10Port = proxy.listenerPort('h10');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  const send = (head: string, p = port): Promise<Buffer> => exchange(p, head, (b) => b.includes('\r\n\r\n'));

  it('answers 431 to more headers than max_headers_count', async () => {
    let extra = '';
    for (let i = 0; i < 11; i++) extra += `x-h${i}: v\r\n`;
    assert.equal(statusOf(await send(`GET / HTTP/1.1\r\nHost: a\r\n${extra}\r\n`)), 431);
  });

  it('answers 431 to headers over max_request_headers_kb', async () => {
    const big = 'x'.repeat(3000);
    assert.equal(statusOf(await send(`GET / HTTP/1.1\r\nHost: a\r\nx-big: ${big}\r\n\r\n`)), 431);
  });

  it('answers 431 over HTTP/2 too', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const h: Record<string, string> = {};
      for (let i = 0; i < 11; i++) h[`x-h${i}`] = 'v';
      const status = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ':path': '/', ...h });
        s.on('response', (r) => resolve(Number(r[':status'])));
        s.on('error', reject);
        s.end();
      });
      assert.equal(status, 431);
    } finally {
      session.close();
    }
  });

  it('answers 400 to HTTP/1.1 without Host and to two Host headers', async () => {
    assert.equal(statusOf(await send('GET / HTTP/1.1\r\n\r\n')), 400);
    assert.equal(statusOf(await send('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')), 400);
  });

  it('answers 426 to HTTP/1.0 unless accept_http_10', async () => {
    assert.equal(statusOf(await send('GET / HTTP/1.0\r\nHost: a\r\n\r\n')), 426);
    assert.equal(statusOf(await send('GET / HTTP/1.0\r\nHost: a\r\n\r\n', http10Port)), 200);
  });

  it('answers 501 to a Transfer-Encoding other than chunked', async () => {
    const r = await send('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.equal(statusOf(r), 501);
    const r2 = await send('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    assert.equal(statusOf(r2), 501);
  });

  it('keeps refusing request smuggling with 400', async () => {
    const r = await send(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.equal(statusOf(r), 400);
    const r2 = await send(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
    );
    assert.equal(statusOf(r2), 400);
  });

  it('answers CONNECT with a local 403 instead of closing silently', async () => {
    const r = await send('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.equal(statusOf(r), 403, r.toString());
  });

  it('counts a local 503 in the cluster upstream_rq_5xx', async () => {
    const r = await get(port, '/dead');
    assert.equal(r.status, 503);
    const stats = (await admin(proxy, '/stats?filter=cluster.dead.upstream_rq_')).body;
    assert.match(stats, /cluster\.dead\.upstream_rq_5xx: 1\b/);
    assert.match(stats, /cluster\.dead\.upstream_rq_503: 1\b/);
  });
});
