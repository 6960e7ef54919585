// The upstream HTTP/2 header block: connection-specific headers dropped, so Node's http2 accepts it.
import assert from 'node:assert/strict';
import { connect, createServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { h2RequestHeaders } from './h2-request-headers.js';

const FROM_H1 = {
  host: 'api:8080',
  connection: 'keep-alive, te',
  'keep-alive': 'timeout=5',
  'proxy-connection': 'keep-alive',
  'transfer-encoding': 'chunked',
  upgrade: 'websocket',
  te: 'gzip',
  'x-request-id': 'r1',
  'set-cookie': ['a=1', 'b=2'],
};

test('pseudo-headers first; HTTP/1.1 connection headers and te other than trailers dropped', () => {
  const h = h2RequestHeaders('POST', '/x?y', 'api:8080', 'http', FROM_H1);
  assert.deepEqual(Object.keys(h), [
    ':method',
    ':path',
    ':authority',
    ':scheme',
    'x-request-id',
    'set-cookie',
  ]);
  assert.equal(h2RequestHeaders('GET', '/', 'a', 'http', { te: 'trailers' }).te, 'trailers');
});

test("Node's http2 client sends the block a request from HTTP/1.1 produces", async () => {
  let seen: IncomingHttpHeaders | null = null;
  const server = createServer((req, res) => {
    seen = req.headers;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const stream = session.request(h2RequestHeaders('GET', '/p', 'api:8080', 'http', FROM_H1));
    stream.resume();
    await new Promise((r) => stream.on('close', r));
    assert.equal(seen!['x-request-id'], 'r1');
    assert.equal(seen![':authority'], 'api:8080');
    assert.equal(seen!.te, undefined);
  } finally {
    session.close();
    server.close();
  }
});
