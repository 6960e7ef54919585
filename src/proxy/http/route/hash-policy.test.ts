// Route hash policies: which request property becomes the key, combination, terminal, cookie parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash53 } from '../../upstream/lb/hash/xxhash64.js';
import { cookieValue, HashPolicy, type HashRequest, type HashResult } from './hash-policy.js';

function req(headers: Record<string, string>, query: Record<string, string> = {}): HashRequest {
  return {
    headers,
    conn: { remoteIp: '127.0.0.7', remoteAddress: '127.0.0.7:5555', localAddress: '127.0.0.1:80' },
    queryParam: (n) => query[n],
  };
}

function key(policies: any[], r: HashRequest): HashResult {
  const out: HashResult = { hash: -1, setCookie: null };
  new HashPolicy(policies).compute(r, out);
  return out;
}

describe('route hash policy', () => {
  it('hashes a header, the source IP or a query parameter; none present gives -1', () => {
    assert.equal(key([{ header: { headerName: 'X-User' } }], req({ 'x-user': 'ann' })).hash, hash53('ann'));
    assert.equal(key([{ connectionProperties: { sourceIp: true } }], req({})).hash, hash53('127.0.0.7'));
    assert.equal(key([{ queryParameter: { name: 'u' } }], req({}, { u: 'bob' })).hash, hash53('bob'));
    assert.equal(key([{ header: { headerName: 'x-user' } }], req({})).hash, -1);
  });

  it('a terminal policy that produced a key stops the list; otherwise keys combine', () => {
    const h = req({ a: '1', b: '2' });
    const both = key([{ header: { headerName: 'a' } }, { header: { headerName: 'b' } }], h).hash;
    const terminal = key(
      [{ header: { headerName: 'a' }, terminal: true }, { header: { headerName: 'b' } }],
      h,
    ).hash;
    assert.equal(terminal, hash53('1'));
    assert.notEqual(both, terminal);
  });

  it('cookie: hashes the value; generates one only with a ttl', () => {
    assert.equal(key([{ cookie: { name: 's' } }], req({ cookie: 'a=1; s="xyz"' })).hash, hash53('xyz'));
    const none = key([{ cookie: { name: 's' } }], req({}));
    assert.deepEqual(none, { hash: -1, setCookie: null });
    const gen = key([{ cookie: { name: 's', ttl: { seconds: 5 } } }], req({}));
    assert.match(gen.setCookie!, /^s="([0-9a-f]{16})"; Max-Age=5; HttpOnly$/);
    const value = /"(.*)"/.exec(gen.setCookie!)![1];
    assert.equal(gen.hash, hash53(value), 'the next request carrying the cookie hashes the same');
  });

  it('cookieValue finds the named cookie among others', () => {
    assert.equal(cookieValue('a=1;  sid=abc ; b=2', 'sid'), 'abc');
    assert.equal(cookieValue('asid=1', 'sid'), null);
    assert.equal(cookieValue(undefined, 'sid'), null);
  });
});
