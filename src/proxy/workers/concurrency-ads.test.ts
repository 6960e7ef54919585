// `mizzen proxy sidecar --xds-address --concurrency 2` against Mizzen's real ADS server: every worker
// opens its own ADS stream, and a pushed route change reaches every worker.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AdsServer } from '../../xds/ads-server.js';
import { TypeUrl } from '../../xds/type-urls.js';
import {
  get,
  hcm,
  httpListener,
  listenerPort,
  routeConfig,
  spawnProxy,
  startBackend,
  startStateAdsServer,
  staticCluster,
  type Backend,
  type ProxyChild,
  waitFor,
} from '../test-util.js';

const NODE = 'sidecar~127.0.0.1~productpage-v1-0.default~default.svc.cluster.local';

describe('mizzen proxy --concurrency 2 with an ADS server', () => {
  let dir: string;
  let v1: Backend;
  let v2: Backend;
  let server: AdsServer;
  let proxy: ProxyChild;
  let port = 0;
  let adminPort = 0;
  const state: Record<string, any[]> = {};
  const route = (cluster: string): any[] => [
    routeConfig('9080', [{ name: 'default', match: { prefix: '/' }, route: { cluster } }]),
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-conc-ads-'));
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    state[TypeUrl.CLUSTER] = [staticCluster('v1', [v1.port]), staticCluster('v2', [v2.port])];
    state[TypeUrl.LISTENER] = [httpListener('0.0.0.0_9080', hcm('9080'))];
    state[TypeUrl.ROUTE] = route('v1');
    let xds: number;
    ({ server, port: xds } = await startStateAdsServer(state));
    const args = ['sidecar', '--xds-address', `127.0.0.1:${xds}`, '--id', NODE, '--admin-port', '0'];
    proxy = await spawnProxy(
      [...args, '--concurrency', '2', '--log-level', 'warning'],
      join(dir, 'ready.json'),
    );
    port = listenerPort(proxy.ports, '0.0.0.0_9080');
    adminPort = proxy.ports.adminPort;
  });

  after(async () => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await server.close();
    await v1.close();
    await v2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each worker has its own ADS stream with the same node id', () => {
    const ids = server.proxies().map((p) => p.id);
    assert.deepEqual(ids, [NODE, NODE]);
  });

  it('a pushed route change reaches every worker', async () => {
    // Fresh connections alternate between the workers (round robin), so 8 in a row cover both.
    for (let i = 0; i < 8; i++) assert.equal((await get(port, '/before')).headers['x-backend'], 'v1');
    state[TypeUrl.ROUTE] = route('v2');
    await server.push();
    const deadline = Date.now() + 20_000;
    let streak = 0;
    while (streak < 8) {
      assert.ok(Date.now() < deadline, 'not every worker switched to v2');
      streak = (await get(port, '/after')).headers['x-backend'] === 'v2' ? streak + 1 : 0;
    }
    for (const w of [0, 1]) {
      const dump = await get(adminPort, `/config_dump?worker=${w}`);
      assert.match(dump.body, /"cluster": "v2"/, `worker ${w}`);
    }
  });

  it('SIGTERM closes both ADS streams and exits 0', async () => {
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
    await waitFor('both ADS streams closed', () => server.proxies().length === 0);
  });
});
