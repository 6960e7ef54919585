// re2js is loaded at a config's first regex, not with the proxy: a proxy without regexes keeps ~4 MiB less.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { StringMatcher, compileRegex } from './string-matcher.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  staticCluster,
  startProxy,
} from '../test-util.js';

const require = createRequire(import.meta.url);
const re2Loaded = (): boolean => require.cache[require.resolve('re2js')] !== undefined;

test('a proxy whose config has no regex does not load re2js; the first safe_regex does, and matches', async () => {
  const backend = await startBackend('b');
  const routes = (match: Record<string, unknown>): unknown[] => [{ match, route: { cluster: 'b' } }];
  const plain = await startProxy(
    [httpListener('plain', hcm(routeConfig('r', routes({ prefix: '/api' }))))],
    [staticCluster('b', [backend.port])],
  );
  try {
    assert.equal((await get(plain.listenerPort('plain'), '/api/x')).status, 200);
    assert.equal(new StringMatcher({ exact: 'a' }).match('a'), true);
    assert.equal(re2Loaded(), false, 'no regex so far, no re2js');

    const m = new StringMatcher({ safeRegex: { regex: '/v[0-9]+/.*' } });
    assert.equal(re2Loaded(), true);
    assert.equal(m.match('/v2/reviews'), true);
    assert.equal(m.match('/vx/reviews'), false);
    assert.throws(() => compileRegex('(unclosed'), /invalid RE2 regex "\(unclosed"/);
  } finally {
    await plain.close();
    await backend.close();
  }
});
