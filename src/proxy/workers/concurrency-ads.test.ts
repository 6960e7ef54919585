// `mizzen proxy sidecar --xds-address --concurrency 2` against Mizzen's real ADS server: every worker
// opens its own ADS stream, and a pushed route change reaches every worker.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN } from '../../cli/test-util.js';
import { AdsServer } from '../../xds/ads-server.js';
import { TypeUrl } from '../../xds/type-urls.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  staticCluster,
  type Backend,
} from '../test-util.js';

const NODE = 'sidecar~127.0.0.1~productpage-v1-0.default~default.svc.cluster.local';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('mizzen proxy --concurrency 2 with an ADS server', () => {
  let dir: string;
  let v1: Backend;
  let v2: Backend;
  let server: AdsServer;
  let child: ChildProcess;
  let exited: Promise<number | null>;
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
    server = new AdsServer({
      address: '127.0.0.1:0',
      debounceMs: 5,
      maxDebounceMs: 50,
      log: () => {},
      generate: (_p, typeUrl, names) => {
        const all = state[typeUrl] ?? [];
        return names.length === 0 ? all : all.filter((r) => names.includes(r.name ?? r.clusterName));
      },
    });
    const xds = await server.listen();
    const ready = join(dir, 'ready.json');
    const args = ['proxy', 'sidecar', '--xds-address', `127.0.0.1:${xds}`, '--id', NODE, '--admin-port', '0'];
    args.push('--ready-file', ready, '--concurrency', '2', '--log-level', 'warning');
    child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(ready)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`proxy did not become ready (exit ${child.exitCode}): ${err}`);
      await sleep(50);
    }
    const ports = JSON.parse(readFileSync(ready, 'utf8'));
    port = Number(ports.listeners['0.0.0.0_9080'].split(':')[1]);
    adminPort = ports.adminPort;
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
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
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const deadline = Date.now() + 10_000;
    while (server.proxies().length > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(server.proxies().length, 0);
  });
});
