// Proves productpage's bookinfo timeouts with hanging backends: details 3 s, reviews 3 s × 2 tries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendEnv, httpRequest, spawnApp, startCapture, type App, type CaptureServer } from './harness.js';

let hanging: CaptureServer;
let productpage: App;

before(async () => {
  hanging = await startCapture(() => null);
  productpage = await spawnApp('bookinfo/productpage/productpage.mjs', {
    env: { ...backendEnv('reviews', hanging.port), ...backendEnv('details', hanging.port) },
  });
});

after(async () => {
  await productpage?.stop();
  await hanging?.close();
});

async function timed(path: string) {
  const t0 = performance.now();
  const res = await httpRequest(productpage.port, path);
  return { status: res.status, body: res.body, seconds: (performance.now() - t0) / 1000 };
}

test('a hanging reviews costs two 3 s tries; a hanging details one 3 s try', async () => {
  const [reviews, details] = await Promise.all([
    timed('/api/v1/products/0/reviews'),
    timed('/api/v1/products/0'),
  ]);
  assert.equal(reviews.status, 500);
  assert.match(reviews.body, /Sorry, product reviews are currently unavailable/);
  assert.equal(hanging.requests.filter((r) => r.url === '/reviews/0').length, 2);
  assert.equal(details.status, 500);
  assert.equal(hanging.requests.filter((r) => r.url === '/details/0').length, 1);
});
