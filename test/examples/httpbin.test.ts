// Runs the httpbin example as a real process and checks the endpoints Istio's tasks rely on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRequest, spawnApp, waitForLine, type App } from './harness.js';

let httpbin: App;

before(async () => {
  httpbin = await spawnApp('httpbin/httpbin.mjs');
});

after(async () => {
  await httpbin?.stop();
});

const json = async (path: string, options: Parameters<typeof httpRequest>[2] = {}) => {
  const res = await httpRequest(httpbin.port, path, options);
  assert.equal(res.status, 200, `${path}: ${res.body}`);
  return JSON.parse(res.body);
};

test('/status/{code} answers that code; a list picks among them', async () => {
  assert.equal((await httpRequest(httpbin.port, '/status/418')).status, 418);
  assert.equal((await httpRequest(httpbin.port, '/status/503')).status, 503);
  assert.equal((await httpRequest(httpbin.port, '/status/204')).status, 204);
  assert.equal((await httpRequest(httpbin.port, '/status/nope')).status, 400);
  const seen = new Set<number>();
  for (let i = 0; i < 40; i++) seen.add((await httpRequest(httpbin.port, '/status/200,503')).status);
  assert.deepEqual([...seen].sort(), [200, 503]);
});

test('/headers shows request headers with canonical names', async () => {
  const body = await json('/headers', { headers: { 'x-b3-traceid': 'abc', 'end-user': 'jason' } });
  assert.equal(body.headers['X-B3-Traceid'], 'abc');
  assert.equal(body.headers['End-User'], 'jason');
  assert.equal(body.headers.Host, `127.0.0.1:${httpbin.port}`);
});

test('/get describes args, headers, origin and url; /ip the origin', async () => {
  const body = await json('/get?show=env&a=1&a=2', { headers: { 'user-agent': 'test-agent' } });
  assert.deepEqual(body.args, { show: 'env', a: ['1', '2'] });
  assert.equal(body.headers['User-Agent'], 'test-agent');
  assert.equal(body.origin, '127.0.0.1');
  assert.equal(body.url, `http://127.0.0.1:${httpbin.port}/get?show=env&a=1&a=2`);
  assert.deepEqual(await json('/ip'), { origin: '127.0.0.1' });
  assert.deepEqual(await json('/ip', { headers: { 'x-forwarded-for': '10.1.2.3' } }), { origin: '10.1.2.3' });
  assert.equal((await httpRequest(httpbin.port, '/get', { method: 'POST' })).status, 405);
});

test('POST /post and /anything echo the body', async () => {
  const posted = await json('/post', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"hello":"mesh"}',
  });
  assert.deepEqual(posted.json, { hello: 'mesh' });
  assert.equal(posted.data, '{"hello":"mesh"}');
  const form = await json('/anything/deep/path?x=1', {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=b',
  });
  assert.equal(form.method, 'PUT');
  assert.deepEqual(form.form, { a: 'b' });
  assert.deepEqual(form.args, { x: '1' });
  assert.match(form.url, /\/anything\/deep\/path\?x=1$/);
});

test('/delay/{s} waits before answering', async () => {
  // Event order instead of a stopwatch: a request sent after /delay/1 still answers first.
  const order: string[] = [];
  const delayed = json('/delay/1').then((b) => (order.push('delay'), b));
  const quick = json('/get').then(() => order.push('get'));
  const [body] = await Promise.all([delayed, quick]);
  assert.deepEqual(order, ['get', 'delay']);
  assert.ok(body.headers.Host);
  assert.equal((await httpRequest(httpbin.port, '/delay/soon')).status, 400);
});

test('each request is logged as a request line on stdout', async () => {
  await httpRequest(httpbin.port, '/headers?logged=1');
  assert.ok(await waitForLine(httpbin, '"GET /headers?logged=1 HTTP/1.1" 200'), httpbin.lines.join('\n'));
});

test('absolute-form requests (as a proxy forwards them) are served by path', async () => {
  const body = await json('http://httpbin:8000/get?via=proxy', { headers: { host: 'httpbin:8000' } });
  assert.deepEqual(body.args, { via: 'proxy' });
  assert.equal(body.url, 'http://httpbin:8000/get?via=proxy');
});
