// The raw response header list becomes the same header object node:http's IncomingMessage gave.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rawHeadersToMap } from './raw-headers.js';

const raw = (...kv: string[]): Buffer[] => kv.map((s) => Buffer.from(s, 'latin1'));

describe('rawHeadersToMap', () => {
  it('lower-cases names and keeps latin1 values', () => {
    assert.deepEqual(rawHeadersToMap(raw('Content-Type', 'text/plain', 'X-Name', 'caf\xe9')), {
      'content-type': 'text/plain',
      'x-name': 'caf\xe9',
    });
  });

  it('set-cookie is always an array; cookie joins with "; "; others with ", "', () => {
    const h = rawHeadersToMap(
      raw(
        'Set-Cookie',
        'a=1',
        'set-cookie',
        'b=2',
        'Cookie',
        'x=1',
        'cookie',
        'y=2',
        'Vary',
        'a',
        'vary',
        'b',
      ),
    );
    assert.deepEqual(h['set-cookie'], ['a=1', 'b=2']);
    assert.equal(h['cookie'], 'x=1; y=2');
    assert.equal(h['vary'], 'a, b');
    assert.deepEqual(rawHeadersToMap(raw('set-cookie', 'only')), { 'set-cookie': ['only'] });
  });

  it('keeps the first of headers node:http does not repeat', () => {
    const h = rawHeadersToMap(raw('Location', '/a', 'location', '/b', 'Server', 's1', 'server', 's2'));
    assert.deepEqual(h, { location: '/a', server: 's1' });
  });
});
