// A raw header list (a response's from the upstream codec, a request's from the downstream one) becomes the
// same header object node:http's IncomingMessage gave.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringHeadersToMap } from './raw-headers.js';

const raw = (...kv: string[]): string[] => kv;

describe('stringHeadersToMap', () => {
  it('lower-cases names and keeps latin1 values', () => {
    assert.deepEqual(stringHeadersToMap(raw('Content-Type', 'text/plain', 'X-Name', 'caf\xe9')), {
      'content-type': 'text/plain',
      'x-name': 'caf\xe9',
    });
  });

  it('set-cookie is always an array; cookie joins with "; "; others with ", "', () => {
    const h = stringHeadersToMap(
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
    assert.deepEqual(stringHeadersToMap(raw('set-cookie', 'only')), { 'set-cookie': ['only'] });
  });

  it('keeps the first of headers node:http does not repeat', () => {
    const h = stringHeadersToMap(raw('Location', '/a', 'location', '/b', 'Server', 's1', 'server', 's2'));
    assert.deepEqual(h, { location: '/a', server: 's1' });
  });
});
