// Router behaviour through a real in-process proxy and real backends: weighted split, retries,
// timeouts, mirroring, rewrites, redirects, direct responses, header mutations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../../proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  stat,
  staticCluster,
  testAccessLog,
  waitFor,
  type Backend,
} from '../../../test-util.js';

describe('router', () => {
  let v1: Backend;
  let v2: Backend;
  let flaky: Backend;
  let slow: Backend;
  let primary: Backend;
  let mirror: Backend;
  let slowMirror: Backend;
  let proxy: Proxy;
  let port: number;
  let flakyCalls = 0;
  let held: Backend;
  let slowMirrorAnswered = false;
  const logDir = mkdtempSync(join(tmpdir(), 'mizzen-router-'));
  const accessLog = testAccessLog(join(logDir, 'access.log'));

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    flaky = await startBackend('flaky', (_req, res) => {
      flakyCalls++;
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('try again');
    });
    slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 3000);
    });
    primary = await startBackend('primary');
    mirror = await startBackend('mirror');
    held = await startBackend('held', (_req, res) => {
      setTimeout(() => res.end('from held'), 300);
    });
    slowMirror = await startBackend('slow-mirror', (_req, res) => {
      setTimeout(() => {
        slowMirrorAnswered = true;
        res.end('mirror late');
      }, 2000);
    });
    const routes = routeConfig('r', [
      {
        name: 'split',
        match: { prefix: '/split' },
        route: {
          weightedClusters: {
            clusters: [
              { name: 'v1', weight: 75 },
              { name: 'v2', weight: 25 },
            ],
          },
        },
      },
      {
        name: 'retry',
        match: { prefix: '/retry' },
        route: {
          cluster: 'flaky',
          retryPolicy: {
            retryOn: '5xx',
            numRetries: 3,
            retryBackOff: { baseInterval: { nanos: 5_000_000 } },
          },
        },
      },
      { name: 'timeout', match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: { seconds: 1 } } },
      {
        name: 'mirror',
        match: { prefix: '/mirror' },
        route: { cluster: 'primary', requestMirrorPolicies: [{ cluster: 'mirror' }] },
      },
      {
        name: 'slow-mirror',
        match: { prefix: '/quietmirror' },
        route: {
          cluster: 'primary',
          requestMirrorPolicies: [
            { cluster: 'slow-mirror', runtimeFraction: { defaultValue: { numerator: 100 } } },
          ],
        },
      },
      {
        name: 'rewrite',
        match: { prefix: '/old/' },
        route: { cluster: 'v1', prefixRewrite: '/new/', hostRewriteLiteral: 'rewritten.example' },
      },
      {
        name: 'regex',
        match: { safeRegex: { regex: '/users/([0-9]+)/profile' } },
        route: {
          cluster: 'v1',
          regexRewrite: { pattern: { regex: '^/users/([0-9]+)/profile$' }, substitution: '/profile?id=\\1' },
        },
      },
      {
        name: 'redirect',
        match: { path: '/go' },
        redirect: { hostRedirect: 'example.com', pathRedirect: '/landed', responseCode: 'FOUND' },
      },
      { name: 'https', match: { path: '/secure' }, redirect: { httpsRedirect: true } },
      {
        name: 'direct',
        match: { path: '/direct' },
        directResponse: { status: 418, body: { inlineString: 'short and stout' } },
      },
      {
        name: 'headers',
        match: {
          prefix: '/headers',
          caseSensitive: false,
          queryParameters: [{ name: 'q', stringMatch: { exact: 'yes' } }],
        },
        requestHeadersToAdd: [
          { header: { key: 'x-added', value: 'route' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        requestHeadersToRemove: ['x-remove-me'],
        responseHeadersToAdd: [{ header: { key: 'x-resp', value: 'yes' } }],
        responseHeadersToRemove: ['x-backend'],
        route: { cluster: 'v1' },
      },
      { name: 'unknown-cluster', match: { prefix: '/nocluster' }, route: { cluster: 'does-not-exist' } },
      {
        name: 'other-host',
        match: { prefix: '/otherhost' },
        route: { cluster: 'pair', retryPolicy: { retryOn: '5xx', numRetries: 1 } },
      },
    ]);
    proxy = await startProxy(
      [httpListener('l', hcm(routes, { accessLog: [accessLog.entry] }))],
      [
        staticCluster('v1', [v1.port]),
        staticCluster('v2', [v2.port]),
        staticCluster('flaky', [flaky.port]),
        staticCluster('slow', [slow.port]),
        staticCluster('primary', [primary.port]),
        staticCluster('mirror', [mirror.port]),
        staticCluster('slow-mirror', [slowMirror.port]),
        staticCluster('pair', [flaky.port, v1.port], {
          lbPolicy: 'LEAST_REQUEST',
          // Istio's default (2^32-1); Envoy's own default of 3 concurrent retries would overflow here.
          circuitBreakers: { thresholds: [{ maxRetries: { value: 4294967295 } }] },
        }),
        staticCluster('held', [held.port]),
      ],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    for (const b of [v1, v2, flaky, slow, primary, mirror, slowMirror, held]) await b.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('splits 75/25 within a binomial ±4σ bound over 2000 requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const one = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/split', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.headers['x-backend'])));
        });
        req.on('error', reject);
        req.end();
      });
    const n = 2000;
    const results: string[] = [];
    for (let i = 0; i < n; i += 100) results.push(...(await Promise.all(Array.from({ length: 100 }, one))));
    agent.destroy();
    const hitsV1 = results.filter((r) => r === 'v1').length;
    const hitsV2 = results.filter((r) => r === 'v2').length;
    assert.equal(hitsV1 + hitsV2, n);
    const sigma = Math.sqrt(n * 0.75 * 0.25);
    assert.ok(
      Math.abs(hitsV1 - n * 0.75) < 4 * sigma,
      `v1 got ${hitsV1} of ${n}, expected 1500 ± ${Math.round(4 * sigma)}`,
    );
  });

  it('retries 5xx num_retries times: the backend sees attempts + 1 = 4 requests, with x-envoy-attempt-count', async () => {
    flakyCalls = 0;
    flaky.seen.length = 0;
    const r = await get(port, '/retry');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'try again');
    assert.equal(flakyCalls, 4);
    const st = (await admin(proxy, '/stats?filter=^cluster\\.flaky\\.')).body;
    assert.match(st, /cluster\.flaky\.upstream_rq_retry: 3$/m);
    assert.match(st, /cluster\.flaky\.upstream_rq_retry_limit_exceeded: 1$/m);
  });

  it('answers 504 "upstream request timeout" (flag UT) when the route timeout expires', async () => {
    const before = await stat(proxy, 'cluster.slow.upstream_rq_timeout');
    const r = await get(port, '/slow');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.equal(slow.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], '1000');
    assert.deepEqual(await accessLog.line('/slow'), {
      status: 504,
      flags: 'UT',
      upstreamHost: `127.0.0.1:${slow.port}`,
    });
    assert.equal(await stat(proxy, 'cluster.slow.upstream_rq_timeout'), before + 1);
  });

  it('x-envoy-upstream-rq-timeout-ms overrides the route timeout', async () => {
    const r = await get(port, '/slow?override', { 'x-envoy-upstream-rq-timeout-ms': '200' });
    assert.equal(r.status, 504);
    assert.equal(slow.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], '200');
    assert.equal((await accessLog.line('/slow?override')).flags, 'UT');
  });

  it('mirrors with a -shadow Host; the caller sees only the primary response', async () => {
    mirror.seen.length = 0;
    const r = await get(port, '/mirror/x', { host: 'reviews:9080' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).name, 'primary');
    await waitFor('the mirrored request', () => mirror.seen.length > 0);
    assert.equal(mirror.seen.length, 1);
    assert.equal(mirror.seen[0].headers.host, 'reviews-shadow:9080');
    assert.equal(mirror.seen[0].url, '/mirror/x');
    assert.equal(primary.seen.at(-1)!.headers.host, 'reviews:9080');
  });

  it('a slow mirror does not delay the caller', async () => {
    slowMirrorAnswered = false;
    const r = await get(port, '/quietmirror', { host: 'ratings' }, 'POST', 'hello body');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).body, 'hello body');
    assert.equal(slowMirrorAnswered, false, 'the caller waited for the mirror’s answer');
    await waitFor('the mirrored request', () => slowMirror.seen.length > 0);
    assert.equal(slowMirror.seen[0].headers.host, 'ratings-shadow');
    assert.equal(slowMirror.seen[0].body, 'hello body');
  });

  it('applies prefix_rewrite, host_rewrite_literal and x-envoy-original-path', async () => {
    await get(port, '/old/thing?a=1');
    const s = v1.seen.at(-1)!;
    assert.equal(s.url, '/new/thing?a=1');
    assert.equal(s.headers.host, 'rewritten.example');
    assert.equal(s.headers['x-envoy-original-path'], '/old/thing?a=1');
  });

  it('applies regex_rewrite with capture groups', async () => {
    await get(port, '/users/42/profile');
    assert.equal(v1.seen.at(-1)!.url, '/profile?id=42');
  });

  it('redirects with host/path/code and https_redirect', async () => {
    const r = await get(port, '/go?x=1', { host: 'shop.local:8080' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://example.com:8080/landed?x=1');
    const s = await get(port, '/secure', { host: 'shop.local' });
    assert.equal(s.status, 301);
    assert.equal(s.headers.location, 'https://shop.local/secure');
  });

  it('answers direct_response', async () => {
    const r = await get(port, '/direct');
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
  });

  it('matches case-insensitively with query parameters and mutates request/response headers', async () => {
    const miss = await get(port, '/HEADERS?q=no');
    assert.equal(miss.status, 404);
    const r = await get(port, '/HEADERS?q=yes', { 'x-added': 'client', 'x-remove-me': '1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-resp'], 'yes');
    assert.equal(r.headers['x-backend'], undefined);
    const s = v1.seen.at(-1)!;
    assert.equal(s.headers['x-added'], 'route');
    assert.equal(s.headers['x-remove-me'], undefined);
  });

  it('answers 503 NC for a route to an unknown cluster', async () => {
    const before = await stat(proxy, 'http.test_http.no_cluster');
    const r = await get(port, '/nocluster');
    assert.equal(r.status, 503);
    assert.deepEqual(await accessLog.line('/nocluster'), { status: 503, flags: 'NC', upstreamHost: '-' });
    assert.equal(await stat(proxy, 'http.test_http.no_cluster'), before + 1);
  });

  it('a retry goes to a different host', async () => {
    const flakyBefore = flakyCalls;
    const retriesBefore = await stat(proxy, 'cluster.pair.upstream_rq_retry');
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => get(port, `/otherhost/${i}`)));
    assert.deepEqual(
      rs.map((r) => `${r.status} ${String(r.headers['x-backend'])}`),
      rs.map(() => '200 v1'),
    );
    // Least-request over two hosts sends some first attempts to the failing one; each of those was
    // retried exactly once, and the retry reached v1.
    const failedFirst = flakyCalls - flakyBefore;
    assert.ok(failedFirst > 0, 'no request went to the failing host first');
    assert.equal(await stat(proxy, 'cluster.pair.upstream_rq_retry'), retriesBefore + failedFirst);
    for (let i = 0; i < 30; i++) {
      const line = await accessLog.line(`/otherhost/${i}`);
      assert.equal(line.upstreamHost, `127.0.0.1:${v1.port}`);
    }
  });

  it('an in-flight request finishes on the route table it started with', async () => {
    const { TYPE } = await import('../../../config/config-manager.js');
    await proxy.apply(
      TYPE.ROUTE,
      [routeConfig('held-r', [{ match: { prefix: '/' }, route: { cluster: 'held' } }])],
      'h1',
    );
    await proxy.apply(TYPE.LISTENER, [httpListener('rds', hcm('held-r'))], 'hl1');
    const rport = proxy.listenerPort('rds');
    const inflight = get(rport, '/during-swap');
    await waitFor('the request to reach the held backend', () =>
      held.seen.some((x) => x.url === '/during-swap'),
    );
    await proxy.apply(
      TYPE.ROUTE,
      [routeConfig('held-r', [{ match: { prefix: '/' }, route: { cluster: 'v2' } }])],
      'h2',
    );
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'from held');
    assert.equal((await get(rport, '/after-swap')).headers['x-backend'], 'v2');
  });

  it('a removed listener drains: the in-flight request completes, new connections are refused', async () => {
    const { TYPE } = await import('../../../config/config-manager.js');
    const rport = proxy.listenerPort('rds');
    await proxy.apply(
      TYPE.ROUTE,
      [routeConfig('held-r', [{ match: { prefix: '/' }, route: { cluster: 'held' } }])],
      'h3',
    );
    const inflight = get(rport, '/draining');
    await waitFor('the request to reach the held backend', () =>
      held.seen.some((x) => x.url === '/draining'),
    );
    await proxy.apply(TYPE.LISTENER, [], 'hl2');
    await assert.rejects(get(rport, '/new'));
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'from held');
  });
});
