// Runs bookinfo's ratings, details and reviews v1/v2/v3 as real processes and checks their JSON and calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
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

const RATINGS_BODY = { id: 0, ratings: { Reviewer1: 3, Reviewer2: 1 } };

let ratings: App, details: App, v1: App, v2: App, v3: App, v2NoRatings: App;
let v2Traced: App, v2Proxied: App, v2NoProxy: App;
let ratingsCapture: CaptureServer, proxyCapture: CaptureServer, unusedProxy: CaptureServer;

before(async () => {
  [ratingsCapture, proxyCapture, unusedProxy] = await Promise.all([
    startCapture(() => [200, RATINGS_BODY]),
    startCapture(() => [200, RATINGS_BODY]),
    startCapture(() => [500, {}]),
  ]);
  [ratings, details] = await Promise.all([
    spawnApp('bookinfo/ratings/ratings.mjs'),
    spawnApp('bookinfo/details/details.mjs'),
  ]);
  const toRatings = backendEnv('ratings', ratings.port);
  const reviews = (env: Record<string, string>) => spawnApp('bookinfo/reviews/reviews.mjs', { env });
  [v1, v2, v3, v2NoRatings, v2Traced, v2Proxied, v2NoProxy] = await Promise.all([
    reviews({ SERVICE_VERSION: 'v1', POD_NAME: 'reviews-v1-abc', ...toRatings }),
    reviews({ SERVICE_VERSION: 'v2', ...toRatings }),
    reviews({ SERVICE_VERSION: 'v3', ...toRatings }),
    closedPort().then((port) => reviews({ SERVICE_VERSION: 'v2', ...backendEnv('ratings', port) })),
    reviews({ SERVICE_VERSION: 'v2', ...backendEnv('ratings', ratingsCapture.port) }),
    reviews({ SERVICE_VERSION: 'v2', HTTP_PROXY: `http://127.0.0.1:${proxyCapture.port}` }),
    reviews({
      SERVICE_VERSION: 'v2',
      HTTP_PROXY: `http://127.0.0.1:${unusedProxy.port}`,
      NO_PROXY: 'localhost,127.0.0.1',
      ...toRatings,
    }),
  ]);
});

after(async () => {
  await stopAll([ratings, details, v1, v2, v3, v2NoRatings, v2Traced, v2Proxied, v2NoProxy]);
  await Promise.all([ratingsCapture?.close(), proxyCapture?.close(), unusedProxy?.close()]);
});

async function getJson(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await httpRequest(port, path, { headers });
  assert.match(String(res.headers['content-type']), /application\/json/);
  return { status: res.status, json: JSON.parse(res.body) };
}

test('ratings answers both reviewers per numeric product id, 400 otherwise', async () => {
  assert.deepEqual(await getJson(ratings.port, '/ratings/0'), {
    status: 200,
    json: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } },
  });
  assert.equal((await getJson(ratings.port, '/ratings/7')).json.id, 7);
  assert.equal((await getJson(ratings.port, '/ratings/abc')).status, 400);
  assert.deepEqual((await getJson(ratings.port, '/health')).json, { status: 'Ratings is healthy' });
});

test('details describes the book', async () => {
  const { status, json } = await getJson(details.port, '/details/0');
  assert.equal(status, 200);
  assert.deepEqual(json, {
    id: 0,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  });
  assert.equal((await getJson(details.port, '/details/x')).status, 400);
  assert.equal((await getJson(details.port, '/health')).status, 200);
});

const TEXTS = [
  'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
];

test('reviews v1 returns two reviews without ratings and names its pod', async () => {
  const { status, json } = await getJson(v1.port, '/reviews/0');
  assert.equal(status, 200);
  assert.deepEqual(json, {
    id: '0',
    podname: 'reviews-v1-abc',
    clustername: 'null',
    reviews: [
      { reviewer: 'Reviewer1', text: TEXTS[0] },
      { reviewer: 'Reviewer2', text: TEXTS[1] },
    ],
  });
  assert.deepEqual((await getJson(v1.port, '/health')).json, { status: 'Reviews is healthy' });
});

test('reviews v2 adds black stars from ratings, v3 red stars', async () => {
  for (const [app, color] of [
    [v2, 'black'],
    [v3, 'red'],
  ] as const) {
    const { json } = await getJson(app.port, '/reviews/0');
    assert.deepEqual(
      json.reviews.map((r: any) => r.rating),
      [
        { stars: 5, color },
        { stars: 4, color },
      ],
    );
    assert.deepEqual(
      json.reviews.map((r: any) => r.text),
      TEXTS,
    );
  }
});

test('reviews v2 reports the rating error when ratings is down', async () => {
  const { status, json } = await getJson(v2NoRatings.port, '/reviews/0');
  assert.equal(status, 200);
  for (const review of json.reviews) {
    assert.deepEqual(review.rating, { error: 'Ratings service is currently unavailable' });
  }
});

test('reviews propagates trace headers and end-user to ratings, and nothing else', async () => {
  const sent = { ...TRACE_SAMPLE, 'end-user': 'jason', 'x-unrelated': 'nope' };
  const { json } = await getJson(v2Traced.port, '/reviews/0', sent);
  assert.equal(json.reviews[0].rating.stars, 3, 'the captured ratings answer was used');
  assert.equal(ratingsCapture.requests.length, 1);
  const got = ratingsCapture.requests[0];
  assert.equal(got.url, '/ratings/0');
  for (const [name, value] of Object.entries(TRACE_SAMPLE)) assert.equal(got.headers[name], value, name);
  assert.equal(got.headers['end-user'], 'jason');
  assert.equal(got.headers['x-unrelated'], undefined);
});

test('with HTTP_PROXY reviews sends an absolute-form request for ratings:9080 to the proxy', async () => {
  const { json } = await getJson(v2Proxied.port, '/reviews/0', { 'x-request-id': 'proxied-1' });
  assert.equal(json.reviews[1].rating.stars, 1, 'the proxy answer was used');
  assert.equal(proxyCapture.requests.length, 1);
  const got = proxyCapture.requests[0];
  assert.equal(got.method, 'GET');
  assert.equal(got.url, 'http://ratings:9080/ratings/0');
  assert.equal(got.headers.host, 'ratings:9080');
  assert.equal(got.headers['x-request-id'], 'proxied-1');
});

test('NO_PROXY hosts bypass HTTP_PROXY', async () => {
  const { json } = await getJson(v2NoProxy.port, '/reviews/0');
  assert.equal(json.reviews[0].rating.stars, 5, 'real ratings answered');
  assert.equal(unusedProxy.requests.length, 0);
});

test('ratings v-faulty fails some requests with 503 and serves the rest', async () => {
  const faulty = await spawnApp('bookinfo/ratings/ratings.mjs', { env: { SERVICE_VERSION: 'v-faulty' } });
  try {
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) statuses.add((await httpRequest(faulty.port, '/ratings/0')).status);
    assert.deepEqual([...statuses].sort(), [200, 503]);
  } finally {
    await faulty.stop();
  }
});

test('a kept-alive connection reset on reuse is retried once on a fresh one', async () => {
  // Ratings stand-in: answers the first request on each connection, resets the connection on the second.
  const body = JSON.stringify(RATINGS_BODY);
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let requests = 0;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (++requests > 1) return socket.resetAndDestroy();
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const reviews = await spawnApp('bookinfo/reviews/reviews.mjs', {
    env: { SERVICE_VERSION: 'v2', ...backendEnv('ratings', port) },
  });
  try {
    for (let i = 0; i < 2; i++) {
      const { json } = await getJson(reviews.port, '/reviews/0');
      assert.equal(json.reviews[0].rating.stars, 3, `call ${i + 1} got ratings`);
    }
    assert.equal(connections, 2, 'the second call reused the connection, was reset, and reconnected');
  } finally {
    await reviews.stop();
    await new Promise((resolve) => server.close(resolve));
  }
});
