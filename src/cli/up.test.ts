// `mizzen up` with the real control plane, proxies and example apps: bookinfo end to end in the
// background (-d … down), a foreground run stopped with Ctrl-C, and manifests with errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, EXAMPLES, runMizzen, type CliResult } from './test-util.js';
import { freeGatewayPort } from '../local/ports.js';
import { httpGet, waitUntil } from '../local/readiness.js';
import { isAlive, readState, runPaths, type RunState } from '../local/run-state.js';

const bin = BIN;
const examples = EXAMPLES;

/** Runs `mizzen ARGS` to completion (asynchronously, so this process keeps serving its event loop). */
const mizzen = (args: string[], timeoutMs?: number): Promise<CliResult> =>
  runMizzen(args, undefined, timeoutMs);

/** Every pid a run recorded: the up process and each supervised process. */
function pidsOf(s: RunState): number[] {
  return [s.pid, ...Object.values(s.processes).flatMap((p) => (p.pid ? [p.pid] : []))];
}

/** A script that GETs an absolute URL N times through $HTTP_PROXY (as the apps do) and prints `status body` lines. */
const VIA_PROXY = `import http from 'node:http';
const proxy = new URL(process.env.HTTP_PROXY);
const target = new URL(process.argv[2]);
const get = () => new Promise((resolve) => {
  http.get({ host: proxy.hostname, port: proxy.port, path: target.href, headers: { host: target.host } }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve(res.statusCode + ' ' + body));
  }).on('error', (e) => resolve('0 ' + e.message));
});
let ok = true;
for (let i = 0; i < Number(process.argv[3] ?? 1); i++) {
  const line = await get();
  console.log(line);
  ok &&= line.startsWith('200 ');
}
process.exit(ok ? 0 : 3);
`;

interface StatusRow {
  name: string;
  ready: string;
  status: string;
  restarts: number;
  ip: string;
  sidecar: string;
}

async function statusRows(run: string): Promise<StatusRow[]> {
  const r = await mizzen(['status', '--run-dir', run, '-o', 'json']);
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out) as { pods: StatusRow[] }).pods;
}

test('bookinfo end to end: up -d, the page through the gateway, status, exec, live apply/delete, restarts, logs, down', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-up-'));
  const run = join(tmp, 'run');
  const viaProxy = join(tmp, 'via-proxy.mjs');
  writeFileSync(viaProxy, VIA_PROXY);
  const port = await freeGatewayPort();
  let downed = false;
  try {
    const t0 = Date.now();
    const up = await mizzen(
      [
        'up',
        join(examples, 'bookinfo'),
        '-d',
        '--network',
        'host',
        '--run-dir',
        run,
        '--gateway-port-offset',
        String(port - 80),
        '--xds-port',
        '0',
        '--debug-port',
        '0',
        '--timeout',
        '150',
      ],
      200_000,
    );
    const startup = (Date.now() - t0) / 1000;
    t.diagnostic(
      `mizzen up -d examples/bookinfo → all 6 pods and the gateway ready: ${startup.toFixed(1)} s`,
    );
    assert.equal(up.code, 0, `${up.out}\n${up.err}`);
    assert.match(
      up.out,
      /productpage-v1\s+productpage-v1-\w+-\w{5}\s+127\.1\.\d+\.\d+\s+127\.2\.\d+\.\d+\s+9080/,
    );
    assert.match(up.out, new RegExp(`http://localhost:${port}/productpage`));
    assert.match(up.out, /mesh running in the background/);

    // The page, through the ingress gateway, productpage's sidecar and its calls to details/reviews/ratings.
    // On a loaded machine the first request right after "ready" has met 503 UF (an endpoint not yet
    // reachable: readiness does not yet wait for the gateway's view of its upstreams). Allow 15 s and
    // report the wait, so a regression to a real outage still fails.
    let page = await httpGet(`http://127.0.0.1:${port}/productpage`, 10_000);
    const readyAt = Date.now();
    await waitUntil(
      async () => {
        if (page.status === 200) return true;
        page = await httpGet(`http://127.0.0.1:${port}/productpage`, 10_000);
        return page.status === 200;
      },
      15_000,
      250,
    );
    t.diagnostic(
      `first 200 from the gateway ${((Date.now() - readyAt) / 1000).toFixed(1)} s after up -d returned`,
    );
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Simple Bookstore App/);
    assert.match(page.body, /The Comedy of Errors/);

    // status: every pod 2/2 Running, every proxy SYNCED.
    let rows: StatusRow[] = [];
    assert.ok(
      await waitUntil(
        async () => {
          rows = await statusRows(run);
          return rows.every((r) => r.sidecar === 'SYNCED');
        },
        15_000,
        500,
      ),
      JSON.stringify(rows),
    );
    assert.equal(rows.length, 7);
    for (const r of rows.filter((x) => !x.name.startsWith('istio-ingressgateway'))) {
      assert.equal(r.ready, '2/2', r.name);
      assert.equal(r.status, 'Running', r.name);
      assert.match(r.ip, /^127\.1\.\d+\.\d+$/);
    }
    const gw = rows.find((x) => x.name.startsWith('istio-ingressgateway'))!;
    assert.equal(gw.ready, '1/1');

    // exec: the command's HTTP goes through productpage's sidecar; its exit code comes back.
    const ex = await mizzen([
      'exec',
      'productpage-v1',
      '--run-dir',
      run,
      '--',
      process.execPath,
      viaProxy,
      'http://details:9080/details/0',
    ]);
    assert.equal(ex.code, 0, ex.out + ex.err);
    assert.match(ex.out, /^200 .*"author":"William Shakespeare"/);
    const fail = await mizzen([
      'exec',
      'productpage',
      '--run-dir',
      run,
      '--',
      process.execPath,
      viaProxy,
      'http://details:9080/nope',
    ]);
    assert.equal(fail.code, 3, 'the exit code of the command');

    // apply a Deployment: its pod starts, with a sidecar, and can call the mesh.
    const applied = await mizzen(['apply', '-f', join(examples, 'sleep', 'sleep.yaml'), '--run-dir', run]);
    assert.equal(applied.code, 0, applied.err);
    assert.match(applied.out, /deployment\.apps\/sleep created/);
    assert.ok(
      await waitUntil(
        async () =>
          (await statusRows(run)).some(
            (r) => r.name.startsWith('sleep-') && r.ready === '2/2' && r.sidecar === 'SYNCED',
          ),
        30_000,
        500,
      ),
      'the applied sleep pod comes up',
    );
    const fromSleep = await mizzen([
      'exec',
      'sleep',
      '--run-dir',
      run,
      '--',
      process.execPath,
      viaProxy,
      'http://reviews:9080/reviews/0',
    ]);
    assert.equal(fromSleep.code, 0, fromSleep.out + fromSleep.err);

    // apply routing: within seconds every call to reviews lands on v1.
    const routing = await mizzen([
      'apply',
      '-f',
      join(examples, 'bookinfo', 'networking', 'destination-rule-all.yaml'),
      '-f',
      join(examples, 'bookinfo', 'networking', 'virtual-service-all-v1.yaml'),
      '--run-dir',
      run,
    ]);
    assert.equal(routing.code, 0, routing.err);
    const t1 = Date.now();
    assert.ok(
      await waitUntil(
        async () => {
          const r = await mizzen([
            'exec',
            'sleep',
            '--run-dir',
            run,
            '--',
            process.execPath,
            viaProxy,
            'http://reviews:9080/reviews/0',
            '6',
          ]);
          const pods = [...r.out.matchAll(/"podname":"([^"]+)"/g)].map((m) => m[1]);
          return pods.length === 6 && pods.every((p) => p.startsWith('reviews-v1-'));
        },
        20_000,
        200,
      ),
      'reviews routed to v1 only',
    );
    t.diagnostic(
      `routing change visible after ${((Date.now() - t1) / 1000).toFixed(1)} s (polling with mizzen exec)`,
    );
    const vs = await mizzen(['get', 'vs', '--run-dir', run]);
    assert.match(vs.out, /^NAME\s+GATEWAYS\s+HOSTS\s+AGE$/m);
    assert.match(vs.out, /^reviews\s+\["reviews"\]\s+\d+s$/m);
    const yaml = await mizzen(['get', 'virtualservice', 'reviews', '-o', 'yaml', '--run-dir', run]);
    assert.match(yaml.out, /subset: v1/);

    // delete the Deployment: its pod goes away.
    const del = await mizzen(['delete', '-f', join(examples, 'sleep', 'sleep.yaml'), '--run-dir', run]);
    assert.equal(del.code, 0, del.err);
    assert.ok(
      await waitUntil(
        async () => !(await statusRows(run)).some((r) => r.name.startsWith('sleep-')),
        20_000,
        500,
      ),
      'the sleep pod is gone',
    );

    // A crashed app is restarted and counted.
    const before = readState(runPaths(run))!;
    const ratings = before.pods.find((p) => p.workload === 'ratings-v1')!;
    process.kill(before.processes[ratings.appProcesses[0]].pid!, 'SIGKILL');
    assert.ok(
      await waitUntil(
        async () => {
          const r = (await statusRows(run)).find((x) => x.name === ratings.name)!;
          return r.restarts === 1 && r.ready === '2/2';
        },
        20_000,
        300,
      ),
      'ratings restarted once and ready again',
    );

    const logs = await mizzen(['logs', 'reviews-v2', '--run-dir', run]);
    assert.match(logs.out, /^listening on 127\.2\.\d+\.\d+:9080$/m);
    const sidecarLogs = await mizzen(['logs', 'reviews-v2', '--sidecar', '--run-dir', run]);
    assert.match(sidecarLogs.out, /LIVE|listener/);

    // down: nothing of the run is left.
    const state = readState(runPaths(run))!;
    const down = await mizzen(['down', '--run-dir', run], 60_000);
    downed = true;
    assert.equal(down.code, 0, down.err);
    assert.ok(
      await waitUntil(() => pidsOf(state).every((p) => !isAlive(p)), 5000, 100),
      'no process survives down',
    );
    assert.equal(readState(runPaths(run))!.phase, 'stopped');
    const again = await httpGet(`http://127.0.0.1:${port}/productpage`, 2000);
    assert.equal(again.status, 0, 'the gateway port is closed');
  } finally {
    if (!downed) await mizzen(['down', '--run-dir', run], 60_000);
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('foreground up: Ctrl-C (SIGINT) stops every process and exits 0', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-fg-'));
  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'web.mjs'),
    `import http from 'node:http';
const s = http.createServer((q, r) => r.end('hi from ' + process.env.POD_NAME));
s.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.HOST + ':' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`,
  );
  writeFileSync(
    join(app, 'web.yaml'),
    `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 8000, targetPort: 8000 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, version: v1 } }
    spec:
      containers:
        - name: web
          command: [node, web.mjs]
          ports: [{ containerPort: 8000 }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ['*'] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: ['*']
  gateways: [web-gateway]
  http: [{ route: [{ destination: { host: web, port: { number: 8000 } } }] }]
`,
  );
  const run = join(tmp, 'run');
  const child = spawn(
    process.execPath,
    [
      bin,
      'up',
      app,
      '--network',
      'host',
      '--run-dir',
      run,
      '--xds-port',
      '0',
      '--debug-port',
      '0',
      '--gateway-port-offset',
      '30000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    assert.ok(await waitUntil(() => /all ready in/.test(out), 90_000, 100), out);
    // Ready means the gateway already has the endpoints its routes need: the very first request works.
    const first = await httpGet('http://127.0.0.1:30080/', 10_000);
    assert.equal(
      first.status,
      200,
      `first request through the gateway right after "all ready": ${first.body}`,
    );
    assert.match(first.body, /^hi from web-/);
    assert.match(
      out,
      /^\[web-\w+-\w{5}\] listening on 127\.2\.\d+\.\d+:8000$/m,
      'app output is prefixed with its pod',
    );
    assert.match(out, /^\[web-\w+-\w{5} sidecar\] /m, 'sidecar output is prefixed too');
    const state = readState(runPaths(run))!;
    assert.equal(state.pods.length, 2);
    assert.ok(existsSync(join(run, 'logs', `${state.pods[0].name}.log`)));
    const pod = readFileSync(join(run, 'config', 'pods', `default.${state.pods[0].name}.yaml`), 'utf8');
    assert.match(pod, new RegExp(`podIP: ${state.pods[0].podIp.replace(/\./g, '\\.')}`));
    const viaSidecar = await httpGet(`http://${state.pods[1].podIp}:8000/`, 5000);
    assert.equal(
      viaSidecar.body,
      `hi from ${state.pods[1].name}`,
      'the sidecar fronts the app on the pod IP',
    );
    const second = await mizzen(['up', app, '--run-dir', run]);
    assert.equal(second.code, 1);
    assert.match(second.err, /already running .*mizzen down/);
    const pids = pidsOf(state);
    assert.ok(pids.length >= 6, 'up, server, gateway, 2 sidecars, 2 apps');
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /SIGINT: stopping everything/);
    assert.ok(await waitUntil(() => pids.every((p) => !isAlive(p)), 5000, 100), 'no process survives Ctrl-C');
    assert.ok(!existsSync(join(run, 'config', 'pods', `default.${state.pods[0].name}.yaml`)), 'pods removed');
  } finally {
    child.kill('SIGKILL');
    await mizzen(['down', '--run-dir', run]);
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('foreground up: one SIGINT stops a mesh that never got ready (the readiness poll ends too); status flags an image-only container', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-fg-nr-'));
  const app = join(tmp, 'app');
  mkdirSync(app);
  // The app runs but never listens on its declared port, so the pod stays not ready.
  writeFileSync(
    join(app, 'idle.mjs'),
    `setInterval(() => {}, 1000);\nprocess.on('SIGTERM', () => process.exit(0));\n`,
  );
  writeFileSync(
    join(app, 'idle.yaml'),
    `apiVersion: v1
kind: Pod
metadata: { name: idle, labels: { app: idle } }
spec:
  containers:
    - name: idle
      command: [node, idle.mjs]
      ports: [{ containerPort: 8000 }]
    - name: cache
      image: redis:7
`,
  );
  const run = join(tmp, 'run');
  const child = spawn(
    process.execPath,
    [
      bin,
      'up',
      app,
      '--network',
      'host',
      '--run-dir',
      run,
      '--xds-port',
      '0',
      '--debug-port',
      '0',
      '--gateway-port-offset',
      '30100',
      '--timeout',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    // Past the readiness timeout `up` keeps polling in the background; that poll must not outlive Ctrl-C.
    assert.ok(await waitUntil(() => /not ready after 2s: .*idle/.test(out), 90_000, 100), out);
    const pids = pidsOf(readState(runPaths(run))!);
    // `status` flags the container that has only an image (nothing runs for it).
    const st = await mizzen(['status', '--run-dir', run]);
    assert.match(st.out, /^idle\s+\d\/3\s+ImageNotRun\s/m, st.out);
    assert.match(st.out, /idle: container cache has only an image and no command/);
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'alive'>((r) => setTimeout(() => r('alive'), 60_000)),
    ]);
    assert.equal(code, 0, `one SIGINT must end up (exit 0):\n${out}`);
    assert.doesNotMatch(out, /SIGINT again/);
    assert.ok(await waitUntil(() => pids.every((p) => !isAlive(p)), 5000, 100), 'no process survives Ctrl-C');
  } finally {
    child.kill('SIGKILL');
    await mizzen(['down', '--run-dir', run]);
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('manifests with errors: positioned messages, exit 1, nothing started', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-bad-'));
  writeFileSync(
    join(tmp, 'bad.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: two
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, command: [node, web.mjs] }]
`,
  );
  const run = join(tmp, 'run');
  try {
    const r = await mizzen(['up', tmp, '--run-dir', run]);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.yaml:5:\d+: spec\.replicas: /);
    assert.match(r.err, /nothing was started/);
    assert.ok(!existsSync(join(run, 'state.json')));
    assert.ok(!existsSync(join(run, 'config')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a busy gateway port or a busy --xds-port fails up with one line and exit 1; nothing keeps running', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-busy-'));
  const manifests = join(tmp, 'manifests');
  mkdirSync(manifests);
  writeFileSync(
    join(manifests, 'gateway.yaml'),
    `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
`,
  );
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    const gw = await mizzen(
      [
        'up',
        manifests,
        '--network',
        'host',
        '--run-dir',
        join(tmp, 'run1'),
        '--xds-port',
        '0',
        '--debug-port',
        '0',
      ].concat(['--gateway-port-offset', String(port - 80)]),
    );
    assert.equal(gw.code, 1, gw.out + gw.err);
    assert.match(
      gw.out + gw.err,
      new RegExp(`127\\.0\\.0\\.1:${port} is in use: the gateway cannot publish port 80`),
    );
    assert.doesNotMatch(gw.out + gw.err, /all ready/);
    // With --network pod the control plane listens on the pod network's node address instead.
    const xds = await mizzen(
      [
        'up',
        manifests,
        '--network',
        'host',
        '--run-dir',
        join(tmp, 'run2'),
        '--xds-port',
        String(port),
        '--debug-port',
        '0',
      ].concat(['--gateway-port-offset', String((await freeGatewayPort()) - 80)]),
    );
    assert.equal(xds.code, 1, xds.out + xds.err);
    assert.match(
      xds.out + xds.err,
      new RegExp(`--xds-port ${port} is in use; free it or choose another port`),
    );
    for (const run of ['run1', 'run2']) {
      const s = readState(runPaths(join(tmp, run)));
      for (const pid of s ? pidsOf(s) : []) assert.ok(!isAlive(pid), `pid ${pid} of ${run} still alive`);
    }
  } finally {
    busy.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
