// The upstream request head: written as Envoy writes it, and refused when a name or value could split it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { H1Request } from './conn-pool.js';
import { requestHead, type RequestHead } from './h1-request-head.js';

function req(headers: H1Request['headers'], extra: Partial<H1Request> = {}): H1Request {
  return { method: 'GET', path: '/a?b=c', headers, body: null, upgrade: null, ...extra };
}

function head(r: H1Request, keepAlive = true): RequestHead {
  const h = requestHead(r, keepAlive);
  assert.equal(typeof h, 'object', `refused: ${String(h)}`);
  return h as RequestHead;
}

describe('upstream HTTP/1.1 request head', () => {
  it('writes the request line, host first, connection, then the headers in order; repeated values repeat', () => {
    const h = head(req({ 'x-a': '1', host: 'svc:8080', 'set-thing': ['p', 'q'] }));
    assert.equal(
      h.text,
      'GET /a?b=c HTTP/1.1\r\nhost: svc:8080\r\nconnection: keep-alive\r\nx-a: 1\r\nset-thing: p\r\nset-thing: q\r\n',
    );
    assert.equal(h.contentLength, -1);
    assert.equal(h.expectsPayload, false);
  });

  it('keeps content-length out of the text (the framing is written with the body) and parses it', () => {
    const h = head(req({ host: 'h', 'content-length': '12' }, { method: 'POST' }));
    assert.equal(h.contentLength, 12);
    assert.equal(h.expectsPayload, true);
    assert.doesNotMatch(h.text, /content-length/);
  });

  it('treats a mixed-case content-length or host as the header it is', () => {
    const h = head(req({ Host: 'h', 'Content-Length': '3' }, { method: 'PUT' }));
    assert.equal(h.contentLength, 3);
    assert.equal(h.text, 'PUT /a?b=c HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n');
  });

  it('writes connection: close when the connection retires or the request asks for it', () => {
    assert.match(head(req({ host: 'h' }), false).text, /\r\nconnection: close\r\n/);
    const asked = head(req({ host: 'h', connection: 'x-foo, close' }));
    assert.equal(asked.close, true);
    assert.match(asked.text, /\r\nconnection: close\r\n/);
    assert.doesNotMatch(asked.text, /x-foo/);
  });

  it('asks for an upgrade with connection: upgrade', () => {
    assert.match(
      head(req({ host: 'h' }, { upgrade: 'websocket' })).text,
      /^GET \/a\?b=c HTTP\/1\.1\r\nhost: h\r\nconnection: upgrade\r\nupgrade: websocket\r\n$/,
    );
  });

  it('refuses anything that could split the request or that the connection owns', () => {
    const refused: [H1Request, RegExp][] = [
      [req({ host: 'h', 'x-a': 'v\r\nx-injected: 1' }), /invalid x-a header/],
      [req({ host: 'h', 'x-a': ['ok', 'v\nx: 1'] }), /invalid x-a header/],
      [req({ host: 'h\r\nx: 1' }), /invalid host header/],
      [req({ host: 'h', 'bad name': 'v' }), /invalid header name/],
      [req({ host: 'h', 'content-length': '1, 2' }), /invalid content-length/],
      [req({ host: 'h', 'transfer-encoding': 'chunked' }), /invalid transfer-encoding/],
      [req({ host: 'h', upgrade: 'h2c' }), /invalid upgrade/],
      [req({ host: 'h', expect: '100-continue' }), /invalid expect/],
      [req({ host: 'h', 'Transfer-Encoding': 'chunked' }), /invalid transfer-encoding/],
      [req({ host: 'h' }, { path: '/a b' }), /invalid request path/],
      [req({ host: 'h' }, { path: '/a\r\nx: 1' }), /invalid request path/],
      [req({ host: 'h' }, { method: 'GE T' }), /invalid method/],
      [req({ host: 'h' }, { upgrade: 'ws\r\nx: 1' }), /invalid upgrade protocol/],
    ];
    for (const [r, why] of refused) {
      const h = requestHead(r, true);
      assert.equal(typeof h, 'string', `accepted ${JSON.stringify(r.headers)} ${r.path}`);
      assert.match(h as string, why);
    }
  });
});
