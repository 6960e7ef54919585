// An inline JWKS is checked when the filter is configured (its status says what is wrong) while jose,
// which builds the key lookup, is loaded in the background and used at the first token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { LocalJwks } from './jwks-source.js';

test('an inline JWKS: bad JSON and malformed key sets fail at configuration; a good one gives a key lookup', async () => {
  const bad = new LocalJwks('{not json');
  assert.match(bad.status, /^Jwks parse error: /);
  assert.ok(bad.keys() instanceof Error);

  const noKeys = new LocalJwks('{"keys": 3}');
  assert.equal(noKeys.status, 'Jwks parse error: not a JSON Web Key Set (no "keys" array)');

  const notObjects = new LocalJwks('{"keys": [1]}');
  assert.equal(notObjects.status, 'Jwks parse error: JSON Web Key Set malformed (a key is not an object)');
  assert.ok(notObjects.keys() instanceof Error);

  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' };
  const good = new LocalJwks(JSON.stringify({ keys: [jwk] }));
  assert.equal(good.status, 'ok');
  const first = await good.keys();
  assert.equal(typeof first, 'function', 'a jose key lookup');
  // Built once: later tokens get the same lookup without waiting.
  assert.equal(good.keys(), first);
});
