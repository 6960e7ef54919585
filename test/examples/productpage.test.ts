// Runs bookinfo end to end (productpage → details, reviews v1/v2/v3 → ratings) as real processes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRACE_SAMPLE,
  backendEnv,
  closedPort,
  httpRequest,
  spawnApp,
  startCapture,
  stopAll,
  type App,
  type CaptureServer,
} from './harness.js';

const DETAILS_SORRY = 'Sorry, product details are currently unavailable for this book.';
const REVIEWS_SORRY = 'Sorry, product reviews are currently unavailable for this book.';
const FAKE_REVIEWS = {
  id: '0',
  podname: 'captured-pod',
  clustername: 'null',
  reviews: [{ reviewer: 'Reviewer1', text: 'Captured review', rating: { stars: 2, color: 'black' } }],
};
const FAKE_DETAILS = { id: 0, type: 'hardcover', pages: 10, publisher: 'P', language: 'L' };

const apps: App[] = [];
let pageV1: App, pageV2: App, pageV3: App, pageDown: App, pageRatingsDown: App, pageCaptured: App;
let pageProxied: App, pageFlaky: App;
let capture: CaptureServer, proxy: CaptureServer, flaky: CaptureServer;
let flakyFailures = 0;

/** Answers like details and reviews would, by path. */
function backend(req: { url: string }): [number, unknown] {
  if (req.url.endsWith('/details/0')) return [200, FAKE_DETAILS];
  if (req.url.endsWith('/reviews/0')) return [200, FAKE_REVIEWS];
  return [404, {}];
}

async function start(script: string, env: Record<string, string> = {}): Promise<App> {
  const app = await spawnApp(script, { env });
  apps.push(app);
  return app;
}

before(async () => {
  [capture, proxy, flaky] = await Promise.all([
    startCapture(backend),
    startCapture(backend),
    startCapture((req) => (req.url === '/reviews/0' && flakyFailures-- > 0 ? [503, {}] : backend(req))),
  ]);
  const [ratings, details, dead] = await Promise.all([
    start('bookinfo/ratings/ratings.mjs'),
    start('bookinfo/details/details.mjs'),
    closedPort(),
  ]);
  const toRatings = backendEnv('ratings', ratings.port);
  const reviews = (env: Record<string, string>) =>
    start('bookinfo/reviews/reviews.mjs', { ...toRatings, ...env });
  const [r1, r2, r3, r2NoRatings] = await Promise.all([
    reviews({ SERVICE_VERSION: 'v1', POD_NAME: 'reviews-v1-pod' }),
    reviews({ SERVICE_VERSION: 'v2' }),
    reviews({ SERVICE_VERSION: 'v3' }),
    reviews({ SERVICE_VERSION: 'v2', ...backendEnv('ratings', dead) }),
  ]);
  const page = (env: Record<string, string>) =>
    start('bookinfo/productpage/productpage.mjs', {
      ...backendEnv('details', details.port),
      ...toRatings,
      ...env,
    });
  [pageV1, pageV2, pageV3, pageDown, pageRatingsDown, pageCaptured, pageProxied, pageFlaky] =
    await Promise.all([
      page(backendEnv('reviews', r1.port)),
      page(backendEnv('reviews', r2.port)),
      page(backendEnv('reviews', r3.port)),
      page({
        ...backendEnv('reviews', dead),
        ...backendEnv('details', dead),
        ...backendEnv('ratings', dead),
      }),
      page(backendEnv('reviews', r2NoRatings.port)),
      page({ ...backendEnv('reviews', capture.port), ...backendEnv('details', capture.port) }),
      start('bookinfo/productpage/productpage.mjs', { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` }),
      page({ ...backendEnv('reviews', flaky.port), ...backendEnv('details', flaky.port) }),
    ]);
});

after(async () => {
  await stopAll(apps);
  await Promise.all([capture?.close(), proxy?.close(), flaky?.close()]);
});

const countStars = (html: string) => html.split('glyphicon glyphicon-star"').length - 1;

async function page(app: App, headers: Record<string, string> = {}): Promise<string> {
  const res = await httpRequest(app.port, '/productpage', { headers });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  return res.body;
}

test('productpage with reviews v1 shows the book, its details and reviews without stars', async () => {
  const html = await page(pageV1);
  assert.match(html, /<title>Simple Bookstore App<\/title>/);
  assert.match(html, /The Comedy of Errors/);
  assert.match(html, /ISBN-10:<\/dt><dd>1234567890/);
  assert.match(html, /Publisher:<\/dt><dd>PublisherA/);
  assert.match(html, /An extremely entertaining play by Shakespeare/);
  assert.match(html, /Reviewer2/);
  assert.match(html, /reviews-v1-pod/);
  assert.equal(countStars(html), 0);
  assert.doesNotMatch(html, /Sorry/);
});

test('productpage with reviews v2 shows 5 + 4 black stars, with v3 red stars', async () => {
  const black = await page(pageV2);
  assert.equal(countStars(black), 9);
  assert.match(black, /<font color="black">/);
  assert.doesNotMatch(black, /color="red"/);
  const red = await page(pageV3);
  assert.equal(countStars(red), 9);
  assert.match(red, /<font color="red">/);
  assert.doesNotMatch(red, /color="black"/);
});

test('productpage apologises when reviews and details are down, and the API reports 500', async () => {
  const html = await page(pageDown);
  assert.ok(html.includes(REVIEWS_SORRY));
  assert.ok(html.includes(DETAILS_SORRY));
  assert.match(html, /The Comedy of Errors/);
  const reviews = await httpRequest(pageDown.port, '/api/v1/products/0/reviews');
  assert.deepEqual([reviews.status, JSON.parse(reviews.body)], [500, { error: REVIEWS_SORRY }]);
  const details = await httpRequest(pageDown.port, '/api/v1/products/0');
  assert.deepEqual([details.status, JSON.parse(details.body)], [500, { error: DETAILS_SORRY }]);
  const ratings = await httpRequest(pageDown.port, '/api/v1/products/0/ratings');
  assert.equal(ratings.status, 500);
  assert.match(ratings.body, /Sorry, product ratings are currently unavailable/);
});

test('productpage shows the ratings error that reviews returns', async () => {
  const html = await page(pageRatingsDown);
  assert.equal((html.match(/Ratings service is currently unavailable/g) ?? []).length, 2);
  assert.equal(countStars(html), 0);
});

test('login sets the user cookie, which becomes end-user on downstream calls; logout clears it', async () => {
  const login = await httpRequest(pageCaptured.port, '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=jason&passwd=secret',
  });
  assert.equal(login.status, 302);
  assert.equal(login.headers.location, '/productpage');
  const cookie = String(login.headers['set-cookie']?.[0]);
  assert.match(cookie, /^user=jason;/);

  capture.requests.length = 0;
  const html = await page(pageCaptured, { cookie: cookie.split(';')[0] });
  assert.match(html, /jason/);
  assert.match(html, /Captured review/);
  assert.match(html, /hardcover/);
  const toReviews = capture.requests.find((r) => r.url === '/reviews/0');
  const toDetails = capture.requests.find((r) => r.url === '/details/0');
  assert.equal(toReviews?.headers['end-user'], 'jason');
  assert.equal(toDetails?.headers['end-user'], 'jason');

  capture.requests.length = 0;
  await page(pageCaptured);
  assert.equal(capture.requests.length, 2);
  for (const r of capture.requests) assert.equal(r.headers['end-user'], undefined);

  const logout = await httpRequest(pageCaptured.port, '/logout', { headers: { cookie: 'user=jason' } });
  assert.equal(logout.status, 302);
  assert.match(String(logout.headers['set-cookie']?.[0]), /^user=;.*Max-Age=0/);
});

test('productpage propagates trace headers to details and reviews', async () => {
  capture.requests.length = 0;
  await page(pageCaptured, { ...TRACE_SAMPLE, 'x-unrelated': 'no' });
  assert.equal(capture.requests.length, 2);
  for (const got of capture.requests) {
    for (const [name, value] of Object.entries(TRACE_SAMPLE)) assert.equal(got.headers[name], value, name);
    assert.equal(got.headers['x-unrelated'], undefined);
  }
});

test('with HTTP_PROXY productpage sends absolute-form requests to the proxy', async () => {
  const html = await page(pageProxied, { cookie: 'user=jason' });
  assert.match(html, /Captured review/);
  const urls = proxy.requests.map((r) => r.url).sort();
  assert.deepEqual(urls, ['http://details:9080/details/0', 'http://reviews:9080/reviews/0']);
  for (const r of proxy.requests) {
    assert.equal(r.headers.host, new URL(r.url).host);
    assert.equal(r.headers['end-user'], 'jason');
  }
});

test('productpage retries a failed reviews call once', async () => {
  flakyFailures = 1;
  flaky.requests.length = 0;
  assert.match(await page(pageFlaky), /Captured review/);
  assert.equal(flaky.requests.filter((r) => r.url === '/reviews/0').length, 2);

  flakyFailures = 100;
  flaky.requests.length = 0;
  const res = await httpRequest(pageFlaky.port, '/api/v1/products/0/reviews');
  assert.equal(res.status, 503);
  assert.equal(flaky.requests.length, 2, 'two tries, no more');
  flakyFailures = 0;
});

test('productpage API, health, static files and login form', async () => {
  const products = await httpRequest(pageV3.port, '/api/v1/products');
  assert.equal(products.status, 200);
  const list = JSON.parse(products.body);
  assert.equal(list[0].id, 0);
  assert.equal(list[0].title, 'The Comedy of Errors');
  const details = JSON.parse((await httpRequest(pageV3.port, '/api/v1/products/0')).body);
  assert.equal(details.author, 'William Shakespeare');
  const reviews = JSON.parse((await httpRequest(pageV3.port, '/api/v1/products/0/reviews')).body);
  assert.equal(reviews.reviews[0].rating.color, 'red');
  const ratings = JSON.parse((await httpRequest(pageV3.port, '/api/v1/products/0/ratings')).body);
  assert.deepEqual(ratings, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  assert.equal((await httpRequest(pageV3.port, '/health')).status, 200);
  assert.equal((await httpRequest(pageV3.port, '/static/bookinfo.css')).status, 200);
  assert.equal((await httpRequest(pageV3.port, '/nowhere')).status, 404);
  assert.match(await page(pageV3), /<form class="login" method="post" action="\/login">/);
});
