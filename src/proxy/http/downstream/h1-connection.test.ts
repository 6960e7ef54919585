// The HTTP/1.1 server codec over real sockets: pipelined requests answered in order, Expect handling,
// HTTP/1.0 keep-alive and close-delimited bodies, chunked framing both ways, HEAD, large uploads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  stat,
  staticCluster,
  waitFor,
  type Backend,
} from '../../test-util.js';
import { exchange } from '../hcm/raw-wire.js';

/** Every complete response in `text` (content-length framed): status and body. */
function responses(text: string): { status: number; head: string; body: string }[] {
  const out: { status: number; head: string; body: string }[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const head = text.slice(at, end);
    const len = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (text.length < end + 4 + len) return out;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    out.push({ status, head, body: text.slice(end + 4, end + 4 + len) });
    at = end + 4 + len;
  }
}

/** Opens a connection and returns it with a reader of everything received so far. */
async function open(port: number): Promise<{ sock: Socket; got: () => string }> {
  const sock = connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, got: () => got };
}

/** A direct response's body. */
const DIRECT_BODY = 'x'.repeat(64 << 10);

describe('HTTP/1.1 server codec', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;
  let http10Port: number;

  before(async () => {
    backend = await startBackend('b', (req, res, body) => {
      const url = req.url ?? '';
      if (url.startsWith('/stream')) {
        // No content-length: the proxy must frame the body itself.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first,');
        setTimeout(() => res.end('second'), 20);
        return;
      }
      if (url.startsWith('/sha')) {
        const sha = createHash('sha256').update(body).digest('hex');
        res.writeHead(200, { 'content-length': String(sha.length) });
        res.end(sha);
        return;
      }
      const out = `${req.method} ${url} ${body}`;
      res.writeHead(200, { 'content-length': String(Buffer.byteLength(out)) });
      res.end(out);
    });
    const routes = routeConfig('r', [
      {
        match: { prefix: '/direct' },
        directResponse: { status: 200, body: { inlineString: DIRECT_BODY } },
      },
      { match: { prefix: '/' }, route: { cluster: 'b' } },
    ]);
    proxy = await startProxy(
      [
        httpListener('h', hcm(routes)),
        httpListener('h10', hcm(routes, { httpProtocolOptions: { acceptHttp_10: true } })),
      ],
      [staticCluster('b', [backend.port])],
    );
    port = proxy.listenerPort('h');
    http10Port = proxy.listenerPort('h10');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('answers pipelined requests in order on one connection', async () => {
    const reqs = ['/a', '/b', '/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const got = await exchange(port, reqs, (b) => responses(b.toString('latin1')).length === 3);
    const rs = responses(got.toString('latin1'));
    assert.deepEqual(
      rs.map((r) => [r.status, r.body]),
      [
        [200, 'GET /a '],
        [200, 'GET /b '],
        [200, 'GET /c '],
      ],
    );
  });

  it('answers Expect: 100-continue before the body is sent, then the response', async () => {
    const c = await open(port);
    c.sock.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await waitFor('100 Continue', () => c.got().includes('100 Continue'));
    assert.match(c.got(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    c.sock.write('hello');
    await waitFor('the response', () => responses(c.got().slice(25)).length === 1);
    assert.equal(responses(c.got().slice(25))[0].body, 'POST /up hello');
    c.sock.destroy();
  });

  it('answers 417 to an expectation other than 100-continue, as node:http did', async () => {
    const got = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n', (b) =>
      b.includes('\r\n\r\n'),
    );
    assert.match(got.toString(), /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    assert.equal(backend.seen.filter((s) => s.headers['expect'] === 'teapot').length, 0);
  });

  it('keeps an HTTP/1.0 keep-alive connection open when the body has a length', async () => {
    const c = await open(http10Port);
    const req = 'GET /ka HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';
    c.sock.write(req);
    await waitFor('the first response', () => responses(c.got()).length === 1);
    assert.match(responses(c.got())[0].head, /\r\nconnection: keep-alive/i);
    c.sock.write(req);
    await waitFor('the second response on the same connection', () => responses(c.got()).length === 2);
    assert.match(responses(c.got())[1].head, /\r\nconnection: keep-alive/i);
    c.sock.destroy();
  });

  it('frames a body without content-length: chunked for HTTP/1.1, close-delimited for HTTP/1.0', async () => {
    const body = await new Promise<{ te: string | undefined; text: string }>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/stream' }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ te: res.headers['transfer-encoding'], text }));
      })
        .on('error', reject)
        .end();
    });
    assert.deepEqual(body, { te: 'chunked', text: 'first,second' });

    const got = (await exchange(http10Port, 'GET /stream HTTP/1.0\r\nHost: x\r\n\r\n')).toString();
    const [head, rest] = got.split('\r\n\r\n');
    assert.match(head, /\r\nconnection: close/i);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.equal(rest, 'first,second');
  });

  it('decodes a chunked request body', async () => {
    const got = await exchange(
      port,
      'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
      (b) => responses(b.toString()).length === 1,
    );
    assert.equal(responses(got.toString())[0].body, 'POST /chunked abcdefg');
  });

  it('sends no body for HEAD, and the connection serves the next request', async () => {
    const got = await exchange(
      port,
      'HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n',
      (b) => b.toString().includes('GET /after '),
    );
    const text = got.toString();
    const first = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.match(first, /\r\ncontent-length: 8/i);
    // The second response follows the first head directly: no body bytes in between.
    assert.match(text.slice(first.length + 4), /^HTTP\/1\.1 200 /);
  });

  it('passes methods llhttp numbers past the HTTP ones (QUERY) by their name', async () => {
    const got = await exchange(
      port,
      'QUERY /q HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}',
      (b) => responses(b.toString()).length === 1,
    );
    assert.equal(responses(got.toString())[0].body, 'QUERY /q {}');
  });

  it('serves no more pipelined requests while the client reads none of the responses', async () => {
    // Direct responses are written whole, with no upstream to pause: only the codec can stop the pipeline.
    const n = 1000;
    const served = (): Promise<number> => stat(proxy, 'http.test_http.downstream_rq_total');
    const before = await served();
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.pause();
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let reqs = '';
    for (let i = 0; i < n; i++) reqs += `GET /direct/${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    sock.write(reqs);
    // 64 MiB of responses is more than the loopback socket buffers hold (up to 32 + 4 MiB here): the proxy must stop serving
    // until the client reads. Wait until the count has not moved for 500 ms.
    let last = -1;
    let stableSince = Date.now();
    await waitFor('the served count to settle', async () => {
      const c = (await served()) - before;
      if (c !== last) {
        last = c;
        stableSince = Date.now();
        return false;
      }
      return c > 0 && Date.now() - stableSince >= 500;
    });
    assert.ok(last < n, `all ${n} requests were served while the client read nothing`);
    // Reading resumes: every response arrives, in full.
    let bytes = 0;
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.resume();
    await waitFor('every response', () => bytes >= n * DIRECT_BODY.length, 20_000);
    sock.destroy();
    assert.equal((await served()) - before, n);
  });

  it('carries an 8 MiB upload intact through a paused socket', async () => {
    const data = Buffer.alloc(8 << 20, 'abcdefghijklmnopqrstuvwxyz');
    const want = createHash('sha256').update(data).digest('hex');
    const sha = await new Promise<string>((resolve, reject) => {
      const r = request(
        { port, host: '127.0.0.1', path: '/sha', method: 'POST', headers: { 'content-length': data.length } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      r.on('error', reject);
      r.end(data);
    });
    assert.equal(sha, want);
  });
});
