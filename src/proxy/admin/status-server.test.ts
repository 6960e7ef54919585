// The status port: /healthz/ready follows readiness over real HTTP; nothing else is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusServer } from './status-server.js';

test('status server: /healthz/ready is 503 until ready, then 200; other paths 404', async () => {
  let ready = false;
  const s = new StatusServer(() => ready);
  const port = await s.listen('127.0.0.1', 0);
  try {
    const get = (path: string): Promise<number> =>
      fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status);
    assert.equal(await get('/healthz/ready'), 503);
    ready = true;
    assert.equal(await get('/healthz/ready'), 200);
    assert.equal(await get('/stats'), 404);
  } finally {
    await s.close();
  }
});
