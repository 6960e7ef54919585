// `mizzen proxy --bootstrap --concurrency 2` as users run it (child processes, loopback, port 0): both
// workers serve connections, admin sums their stats, /ready, a killed worker comes back, SIGTERM and
// SIGKILL of the primary leave no worker behind, and bad --concurrency values are usage errors.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMizzen } from '../../cli/test-util.js';
import { get, listenerPort, spawnProxy, startBackend, waitFor, type Backend } from '../test-util.js';

const CLUSTER = 'outbound|8080||api.default.svc.cluster.local';

function bootstrapYaml(backendPort: number): string {
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
node: { id: router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
          route_config:
            name: ingress
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: / }
                route: { cluster: "${CLUSTER}" }
  clusters:
  - name: "${CLUSTER}"
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: "${CLUSTER}"
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } }
`;
}

/** A `mizzen proxy --concurrency 2` child with its ports from the ready file. */
interface Running {
  child: ChildProcess;
  adminPort: number;
  port: number;
  exited: Promise<number | null>;
}

async function startProxy(dir: string, backendPort: number): Promise<Running> {
  const file = join(dir, 'bootstrap.yaml');
  writeFileSync(file, bootstrapYaml(backendPort));
  const args = ['--bootstrap', file, '--concurrency', '2', '--log-level', 'warning'];
  // Generous: two Node processes load the proxy at once on a possibly busy 2-core machine.
  const p = await spawnProxy(args, join(dir, 'ready.json'), 60_000);
  return {
    child: p.child,
    adminPort: p.ports.adminPort,
    port: listenerPort(p.ports, 'ingress'),
    exited: p.exited,
  };
}

/** One stat's value from admin /stats (`?worker=N` for one worker's own store). */
async function stat(adminPort: number, name: string, worker?: number): Promise<number> {
  const w = worker === undefined ? '' : `&worker=${worker}`;
  const r = await get(
    adminPort,
    `/stats?filter=${encodeURIComponent(`^${name.replace(/[|.]/g, '\\$&')}$`)}${w}`,
  );
  assert.equal(r.status, 200, r.body);
  const m = /: (\d+)\n/.exec(r.body);
  assert.ok(m, `no ${name} in ${r.body}`);
  return Number(m[1]);
}

interface Workers {
  workers: Array<{ index: number; pid: number; state: string; restarts: number }>;
}

async function workers(adminPort: number): Promise<Workers['workers']> {
  const r = await get(adminPort, '/server_info');
  return (JSON.parse(r.body) as Workers).workers;
}

/** `n` keep-alive connections, each sending `per` requests one after another; resolves to the statuses. */
async function load(port: number, n: number, per: number): Promise<number[]> {
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < per; i++) {
        statuses.push(
          await new Promise<number>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path: '/load', agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.end();
          }),
        );
      }
      agent.destroy();
    }),
  );
  return statuses;
}

/** Which process owns the client end of each TCP connection to `serverPort` whose client port is in `ports`. */
function ownersOf(ports: Set<number>, serverPort: number, pids: number[]): Set<number> {
  const inodeOfPort = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (remote === serverPort && ports.has(local)) inodeOfPort.set(f[9], local);
    }
  }
  const owners = new Set<number>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link = '';
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodeOfPort.has(m[1])) owners.add(pid);
    }
  }
  return owners;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('mizzen proxy --concurrency 2 (child processes)', () => {
  let dir: string;
  let backend: Backend;
  let proxy: Running;
  /** Client ports of the upstream connections the backend accepted (the proxy workers' ends). */
  const upstreamPorts = new Set<number>();
  let sent = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-conc-'));
    backend = await startBackend('api');
    backend.server.on('connection', (s) => upstreamPorts.add(s.remotePort!));
    proxy = await startProxy(dir, backend.port);
  });

  after(async () => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/ready is LIVE once both workers are, and /server_info lists them', async () => {
    const r = await get(proxy.adminPort, '/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'LIVE\n');
    const info = JSON.parse((await get(proxy.adminPort, '/server_info')).body);
    assert.equal(info.commandLineOptions.concurrency, 2);
    assert.deepEqual(
      info.workers.map((w: { index: number; state: string }) => [w.index, w.state]),
      [
        [0, 'LIVE'],
        [1, 'LIVE'],
      ],
    );
    assert.notEqual(info.workers[0].pid, info.workers[1].pid);
  });

  it('both workers serve connections; admin totals equal the requests sent', async () => {
    const statuses = await load(proxy.port, 8, 10);
    sent += statuses.length;
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(sent, 80);
    // The backend saw upstream connections from both worker processes (found through /proc).
    const pids = (await workers(proxy.adminPort)).map((w) => w.pid);
    assert.deepEqual(ownersOf(upstreamPorts, backend.port, pids), new Set(pids));
    // Each worker's own counter is non-zero; the merged one is their sum and the number sent.
    const w0 = await stat(proxy.adminPort, 'http.ingress.downstream_rq_total', 0);
    const w1 = await stat(proxy.adminPort, 'http.ingress.downstream_rq_total', 1);
    assert.ok(w0 > 0 && w1 > 0, `per worker ${w0} / ${w1}`);
    assert.equal(w0 + w1, sent);
    assert.equal(await stat(proxy.adminPort, 'http.ingress.downstream_rq_total'), sent);
    assert.equal(await stat(proxy.adminPort, `cluster.${CLUSTER}.upstream_rq_total`), sent);
    // Configuration stats are one worker's value, not doubled.
    assert.equal(await stat(proxy.adminPort, `cluster.${CLUSTER}.membership_total`), 1);
    const prom = (await get(proxy.adminPort, '/stats/prometheus')).body;
    assert.match(
      prom,
      new RegExp(
        `^envoy_cluster_upstream_rq_total\\{envoy_cluster_name="outbound\\|8080\\|\\|api\\.default\\.svc\\.cluster\\.local"\\} ${sent}$`,
        'm',
      ),
    );
  });

  it('a killed worker is restarted while requests keep succeeding; totals stay whole', async () => {
    // This scrape is the last the primary gets from the victim: it keeps those counts when it dies.
    assert.equal(await stat(proxy.adminPort, 'http.ingress.downstream_rq_total'), sent);
    const victim = (await workers(proxy.adminPort))[1].pid;
    process.kill(victim, 'SIGKILL');
    // Wait until the primary noticed (a connection handed over in the instant of death dies with it).
    await waitFor(
      'the primary to notice the dead worker',
      async () => (await workers(proxy.adminPort))[1].pid !== victim,
      60_000,
    );
    let during = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await get(proxy.port, '/during-restart');
      assert.equal(r.status, 200);
      during++;
      const w = (await workers(proxy.adminPort))[1];
      if (w.pid !== victim && w.pid !== 0 && w.state === 'LIVE') {
        assert.equal(w.restarts, 1);
        break;
      }
      assert.ok(Date.now() < deadline, 'worker 1 did not come back');
    }
    sent += during;
    assert.ok(!alive(victim));
    const statuses = await load(proxy.port, 4, 5);
    sent += statuses.length;
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.ok(
      (await stat(proxy.adminPort, 'http.ingress.downstream_rq_total', 1)) > 0,
      'new worker 1 served',
    );
    assert.equal(await stat(proxy.adminPort, 'http.ingress.downstream_rq_total'), sent);
    assert.equal((await get(proxy.adminPort, '/ready')).status, 200);
  });

  it('POST /reset_counters reaches every worker', async () => {
    assert.equal((await get(proxy.adminPort, '/reset_counters', {}, 'POST')).status, 200);
    assert.equal(await stat(proxy.adminPort, 'http.ingress.downstream_rq_total'), 0);
  });

  it('SIGTERM on the primary stops every worker and exits 0', async () => {
    const pids = (await workers(proxy.adminPort)).map((w) => w.pid);
    assert.ok(pids.every(alive));
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
    for (const pid of pids) assert.ok(!alive(pid), `worker ${pid} outlived the primary`);
  });
});

describe('mizzen proxy --concurrency: no orphans, usage errors', () => {
  it('workers exit when the primary is SIGKILLed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-conc-'));
    const backend = await startBackend('api');
    try {
      const p = await startProxy(dir, backend.port);
      const pids = (await workers(p.adminPort)).map((w) => w.pid);
      p.child.kill('SIGKILL');
      await p.exited;
      await waitFor('the orphaned workers to exit', () => !pids.some(alive));
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker that cannot start stops the whole proxy with exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-conc-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, bootstrapYaml(1).replace('type: STATIC', 'type: NO_SUCH_TYPE'));
      const r = await runMizzen(['proxy', '--bootstrap', file, '--concurrency', '2', '--admin-port', '0']);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /NO_SUCH_TYPE/);
      assert.match(r.err, /worker \d failed to start/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an admin port already in use stops the workers and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-conc-'));
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const file = join(dir, 'bootstrap.yaml');
      writeFileSync(file, bootstrapYaml(1));
      const adminPort = (taken.address() as AddressInfo).port;
      const r = await runMizzen([
        'proxy',
        '--bootstrap',
        file,
        '--concurrency',
        '2',
        '--admin-port',
        String(adminPort),
      ]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`mizzen proxy: admin 127\\.0\\.0\\.1:${adminPort}: .*EADDRINUSE`));
      assert.match(r.err, /stopping 2 workers/);
    } finally {
      await new Promise((r) => taken.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const bad of ['0', 'abc', '1.5']) {
    it(`--concurrency ${bad} is a usage error`, async () => {
      const r = await runMizzen(['proxy', '--bootstrap', '/nonexistent.yaml', '--concurrency', bad]);
      assert.equal(r.code, 2);
      assert.match(
        r.err,
        new RegExp(
          `--concurrency must be a positive integer \\(worker processes\\), got "${bad.replace('.', '\\.')}"`,
        ),
      );
    });
  }

  it('--help shows --concurrency', async () => {
    const r = await runMizzen(['proxy', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /--concurrency N/);
  });
});
