// The workload page's data: a real proxy's config_dump as proxy-config tables, and access-log tails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proxy } from '../proxy/proxy.js';
import { hcm, httpListener, routeConfig, startProxy, staticCluster } from '../proxy/test-util.js';
import { accessLogTail, proxyTables } from './workload-details.js';

const CLUSTER = 'outbound|9080|v1|reviews.default.svc.cluster.local';

describe('proxyTables', () => {
  let proxy: Proxy;
  before(async () => {
    const routes = routeConfig('9080', [{ match: { prefix: '/' }, route: { cluster: CLUSTER } }]);
    proxy = await startProxy([httpListener('0.0.0.0_9080', hcm(routes))], [staticCluster(CLUSTER, [1])]);
  });
  after(() => proxy.close());

  it("reads a proxy's listeners, routes and clusters as proxy-config rows", async () => {
    const t = await proxyTables(`127.0.0.1:${proxy.adminPort}`);
    assert.deepEqual(t.listeners, [['127.0.0.1', '0', 'ALL', 'Inline Route: all']]);
    assert.deepEqual(t.routes, [['9080', 'all', '*', '/*', '-']]);
    assert.deepEqual(
      t.clusters.find((r) => r[0] === 'reviews.default.svc.cluster.local'),
      ['reviews.default.svc.cluster.local', '9080', 'v1', 'outbound', 'STATIC', ''],
    );
    assert.deepEqual(t.secrets, []);
  });

  it('names the admin it could not read', async () => {
    await assert.rejects(proxyTables('127.0.0.1:1'), /127\.0\.0\.1:1\/config_dump/);
  });
});

describe('accessLogTail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-accesslog-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the last N access-log lines (text and JSON) and drops the proxy's own log", () => {
    const file = join(dir, 'sidecar.log');
    const lines = [
      '2026-12-06T15:00:00.000Z\tinfo\tproxy\tstarting',
      ...Array.from(
        { length: 5 },
        (_, i) => `[2026-12-06T15:00:0${i}.000Z] "GET /p${i} HTTP/1.1" 200 - via_upstream`,
      ),
      '2026-12-06T15:00:06.000Z\twarning\tads\treconnecting',
      '{"method":"GET","path":"/json","response_code":200}',
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    assert.deepEqual(accessLogTail(file, 3), [lines[4], lines[5], lines[7]]);
    assert.equal(accessLogTail(file, 100).length, 6);
    assert.deepEqual(accessLogTail(join(dir, 'absent.log'), 3), []);
  });

  it('reads only the end of a large log, dropping the partial first line', () => {
    const file = join(dir, 'big.log');
    const line = `[2026-12-06T15:00:00.000Z] "GET /${'x'.repeat(990)} HTTP/1.1" 200`;
    writeFileSync(file, Array.from({ length: 600 }, () => line).join('\n') + '\n');
    const got = accessLogTail(file, 1000);
    assert.ok(got.length > 200 && got.length < 600, String(got.length));
    assert.ok(got.every((l) => l === line));
  });
});
