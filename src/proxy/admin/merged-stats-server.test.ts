// Istio's merged metrics endpoint over real HTTP: agent + proxy + app metrics concatenated in that order,
// a failing or hanging app leaves the rest intact and is counted, OpenMetrics apps keep their format,
// and ISTIO_PROMETHEUS_ANNOTATIONS is read as pilot-agent reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { reply } from './admin-reply.js';
import { appMetricsTarget } from './app-metrics.js';
import { MergedStatsServer } from './merged-stats-server.js';

const PROXY = '# TYPE envoy_server_live gauge\nenvoy_server_live 1\n';

/** An app serving /metrics as `handler` says; resolves with its port and the headers it received. */
async function app(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ port: number; seen: http.IncomingHttpHeaders[]; close: () => void }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const s = http.createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    seen,
    close: () => {
      s.closeAllConnections();
      s.close();
    },
  };
}

async function merged(
  target: { port: number; path: string } | null,
): Promise<{ url: string; close: () => Promise<void> }> {
  const s = new MergedStatsServer(() => reply(200, PROXY), target && { host: '127.0.0.1', ...target });
  const port = await s.listen('127.0.0.1', 0);
  return { url: `http://127.0.0.1:${port}`, close: () => s.close() };
}

test('merged stats: agent, proxy, then app metrics; Prometheus headers reach the app', async () => {
  const a = await app((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end('# TYPE shop_orders_total counter\nshop_orders_total 3\n'),
  );
  const m = await merged({ port: a.port, path: '/metrics' });
  try {
    const r = await fetch(`${m.url}/stats/prometheus`, {
      headers: {
        accept: 'text/plain',
        'x-prometheus-scrape-timeout-seconds': '5',
        'user-agent': 'Prometheus/2',
      },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await r.text();
    const agent = body.indexOf('istio_agent_scrapes_total 1');
    const proxy = body.indexOf('envoy_server_live 1');
    const appAt = body.indexOf('shop_orders_total 3');
    assert.ok(agent >= 0 && proxy > agent && appAt > proxy, body);
    assert.equal(a.seen[0]['user-agent'], 'Prometheus/2');
    assert.equal(a.seen[0]['x-prometheus-scrape-timeout-seconds'], '5');
    // /metrics is the same endpoint (pilot-agent serves both paths).
    assert.match(await (await fetch(`${m.url}/metrics`)).text(), /istio_agent_scrapes_total 2/);
    assert.equal((await fetch(`${m.url}/stats`)).status, 404);
  } finally {
    await m.close();
    a.close();
  }
});

test('merged stats: a failing app is left out and counted; the proxy part stays', async () => {
  const a = await app((_req, res) => res.writeHead(500).end('boom'));
  const m = await merged({ port: a.port, path: '/metrics' });
  try {
    // As pilot-agent, the agent's own metrics are gathered last: this scrape's failure is in it.
    const r = await fetch(`${m.url}/stats/prometheus`);
    assert.equal(r.status, 200);
    const body = await r.text();
    assert.match(body, /istio_agent_scrape_failures_total\{type="application"\} 1/);
    assert.match(body, /envoy_server_live 1/);
    assert.doesNotMatch(body, /boom/);
  } finally {
    await m.close();
    a.close();
  }
});

test('merged stats: an app that never answers is cut at the scrape timeout', async () => {
  const a = await app(() => {
    // never answers
  });
  const m = await merged({ port: a.port, path: '/metrics' });
  try {
    const r = await fetch(`${m.url}/stats/prometheus`, {
      headers: { 'x-prometheus-scrape-timeout-seconds': '0.2' },
    });
    assert.equal(r.status, 200);
    const body = await r.text();
    assert.match(body, /envoy_server_live 1/);
    assert.match(body, /istio_agent_scrape_failures_total\{type="application"\} 1/);
  } finally {
    await m.close();
    a.close();
  }
});

test('merged stats: an OpenMetrics app sets the format and its # EOF comes last', async () => {
  const ct = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
  const a = await app((_req, res) =>
    res
      .writeHead(200, { 'content-type': ct })
      .end('# TYPE shop_orders counter\nshop_orders_total 1\n# EOF\n'),
  );
  const m = await merged({ port: a.port, path: '/metrics' });
  try {
    const r = await fetch(`${m.url}/stats/prometheus`);
    assert.equal(r.headers.get('content-type'), ct);
    assert.match(await r.text(), /shop_orders_total 1\n# EOF\n$/);
  } finally {
    await m.close();
    a.close();
  }
});

test('ISTIO_PROMETHEUS_ANNOTATIONS as pilot-agent reads it', () => {
  assert.equal(appMetricsTarget(undefined, 'h', 15020), null);
  assert.equal(appMetricsTarget('{"scrape":"false","port":"9102"}', 'h', 15020), null);
  assert.deepEqual(appMetricsTarget('{"scrape":"true","path":"","port":""}', 'h', 15020), {
    host: 'h',
    port: 80,
    path: '/metrics',
  });
  assert.deepEqual(appMetricsTarget('{"scrape":"true","path":"/custom","port":"9102"}', 'h', 15020), {
    host: 'h',
    port: 9102,
    path: '/custom',
  });
  assert.throws(() => appMetricsTarget('{"port":"15020"}', 'h', 15020), /scrape itself/);
  assert.throws(() => appMetricsTarget('{', 'h', 15020), /not JSON/);
  assert.throws(() => appMetricsTarget('{"port":"x"}', 'h', 15020), /port must be/);
});
