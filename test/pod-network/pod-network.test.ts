// Pod network mode end to end: unmodified apps (a server on 0.0.0.0:80 in two pods, python3 -m
// http.server, a raw TCP echo, a gRPC server) reached from a pod by Node's fetch, a raw TCP client and
// a gRPC client with no proxy settings; DNS checked with getent; names and hosts outside the mesh (a
// host in a namespace of the test's own, reached through the mesh DNS's forwarding and the pod
// network's outbound NAT); `down` leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { podNetworkUnavailable } from '../../src/local/pod-network.js';
import {
  cli,
  meshDown,
  meshUp,
  mizzen,
  newMesh,
  podLogs,
  request,
  runState,
  type Mesh,
} from '../tasks/mesh.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/pod-network/', import.meta.url));

let mesh: Mesh | undefined;
const m = (): Mesh => mesh!;

/**
 * A host outside the mesh: a namespace joined to the root namespace by a veth (/30 of TEST-NET-3), with
 * no route to the mesh subnet — its answers reach pods only through the pod network's NAT.
 */
const OUTSIDE = {
  ns: `mzt-outside-${process.pid}`,
  root: `mzto${process.pid % 100000}`,
  rootIp: '203.0.113.1',
  ip: '203.0.113.2',
};
let outsideProc: ChildProcess | undefined;

/** Removes an outside host a killed earlier run left (its route to 203.0.113.0/30 would win over ours). */
function removeStaleOutside(ip: (...a: string[]) => string): void {
  const quietly = (...a: string[]): void => {
    try {
      ip(...a);
    } catch {
      // went with its namespace
    }
  };
  for (const ns of netnsNames()) if (ns.startsWith('mzt-outside-')) quietly('netns', 'del', ns);
  for (const m of ip('-o', 'link', 'show').matchAll(/^\d+: (mzto\d+)[@:]/gm)) quietly('link', 'del', m[1]);
}

async function startOutside(): Promise<void> {
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });
  removeStaleOutside(ip);
  ip('netns', 'add', OUTSIDE.ns);
  ip('link', 'add', OUTSIDE.root, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE.ns);
  ip('addr', 'add', `${OUTSIDE.rootIp}/30`, 'dev', OUTSIDE.root);
  ip('link', 'set', OUTSIDE.root, 'up');
  ip('-n', OUTSIDE.ns, 'addr', 'add', `${OUTSIDE.ip}/30`, 'dev', 'eth0');
  ip('-n', OUTSIDE.ns, 'link', 'set', 'eth0', 'up');
  ip('-n', OUTSIDE.ns, 'link', 'set', 'lo', 'up');
  const child = spawn(
    'ip',
    ['netns', 'exec', OUTSIDE.ns, process.execPath, `${FIXTURE}outside.mjs`, OUTSIDE.ip],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  outsideProc = child;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`outside.mjs exited (${code})`)));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
}

function stopOutside(): void {
  outsideProc?.kill('SIGKILL');
  try {
    execFileSync('ip', ['netns', 'del', OUTSIDE.ns]);
  } catch {
    // not made
  }
}

/** `mizzen exec client -- ARGS…` (inside the client pod's namespace); its stdout, code and stderr. */
async function inClient(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await mizzen(['exec', 'client', '--run-dir', m().run, '--', ...args]);
  return { code: r.code ?? -1, out: r.out, err: r.err };
}

function netnsNames(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}

describe('mizzen up --network pod: unmodified apps', { timeout: 300_000 }, () => {
  before(async () => {
    assert.equal(podNetworkUnavailable(), null, 'pod network mode needs Linux, root, iproute2 and iptables');
    mesh = await newMesh();
    await startOutside();
    // The kubelet's --resolv-conf: the host's resolvers are the outside one.
    const resolvConf = join(mesh.tmp, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${OUTSIDE.ip}\n`);
    await meshUp(mesh, FIXTURE, ['--network', 'pod', '--resolv-conf', resolvConf]);
  });

  after(async () => {
    await meshDown(mesh);
    stopOutside();
  });

  it('each pod has its own IP and namespace; two pods bind 0.0.0.0:80 at once', async () => {
    const s = runState(m());
    assert.equal(s.network?.mode, 'pod');
    const httpbin = s.pods.filter((p) => p.workload === 'httpbin');
    assert.equal(httpbin.length, 2);
    assert.notEqual(httpbin[0].podIp, httpbin[1].podIp);
    for (const p of s.pods) assert.ok(p.netns && netnsNames().includes(p.netns), `${p.name} has a namespace`);
    const rows = JSON.parse(await cli(m(), ['status', '-o', 'json'])).pods as {
      name: string;
      ready: string;
    }[];
    for (const p of httpbin) assert.equal(rows.find((r) => r.name === p.name)?.ready, '2/2');
  });

  it('getent hosts answers service names with one service IP; unknown names fail fast', async () => {
    const r = await inClient(
      'getent',
      'hosts',
      'httpbin',
      'httpbin.default',
      'httpbin.default.svc.cluster.local',
    );
    assert.equal(r.code, 0, r.err);
    const ips = r.out
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    assert.equal(ips.length, 3, r.out);
    assert.equal(new Set(ips).size, 1, r.out);
    assert.match(ips[0], /^10\.96\.\d+\.\d+$/);
    const none = await inClient('getent', 'hosts', 'nosuch.example.invalid');
    assert.equal(none.code, 2, 'getent: not found');
  });

  it("Node's fetch (no proxy setting) reaches httpbin's 0.0.0.0:80 through both sidecars", async () => {
    const r = await inClient(process.execPath, `${FIXTURE}fetch.mjs`, 'http://httpbin:8000/headers');
    assert.equal(r.code, 0, r.err);
    const [status, body] = r.out.split('\n');
    if (status !== '200') assert.fail(`got ${JSON.stringify(r.out)}${podLogs(m(), 'client', 'httpbin')}`);
    const seen = JSON.parse(body) as { path: string; headers: Record<string, string> };
    assert.equal(seen.path, '/headers');
    // Added by the client's sidecar: the request went through capture, not straight to the pod.
    assert.ok(seen.headers['x-request-id'], body);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    const client = runState(m()).pods.find((p) => p.workload === 'client')!;
    const stats = await request(`http://${client.sidecar.adminIp}:${client.sidecar.adminPort}/stats`);
    assert.match(
      stats.body,
      /cluster\.outbound\|8000\|\|httpbin\.default\.svc\.cluster\.local\.upstream_rq_total: [1-9]/,
    );
  });

  it('python3 -m http.server answers by its service name', async () => {
    const r = await inClient(process.execPath, `${FIXTURE}fetch.mjs`, 'http://pyserver:5000/hello.txt');
    assert.equal(r.code, 0, r.err);
    // On failure: both sidecars' logs (their access logs carry the response flags) and the app's.
    if (r.out !== '200\nhello from python\n\n')
      assert.fail(`got ${JSON.stringify(r.out)}${podLogs(m(), 'client', 'pyserver')}`);
  });

  it('raw TCP: to a service port, and to a port nothing declares (passthrough by original destination)', async () => {
    const svc = await inClient(process.execPath, `${FIXTURE}tcp-client.mjs`, 'tcp-echo', '9000', 'hi');
    assert.equal(svc.out.trim(), 'echo hi', svc.err);
    const echo = runState(m()).pods.find((p) => p.workload === 'tcp-echo')!;
    const raw = await inClient(
      process.execPath,
      `${FIXTURE}tcp-client.mjs`,
      echo.podIp,
      '7777',
      'passthrough',
    );
    assert.equal(raw.out.trim(), 'echo passthrough', raw.err);
  });

  it('gRPC by service name', async () => {
    const r = await inClient(process.execPath, `${FIXTURE}grpc-echo.mjs`, 'call', 'grpc-echo:50051', 'hello');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'echo hello');
  });

  it('names outside the mesh are forwarded to the host resolvers; pods reach outside hosts through NAT', async () => {
    const dns = await inClient('getent', 'hosts', 'outside.example');
    assert.equal(dns.code, 0, dns.err);
    assert.equal(dns.out.split(/\s+/)[0], OUTSIDE.ip);
    const r = await inClient(process.execPath, `${FIXTURE}fetch.mjs`, 'http://outside.example:8080/');
    assert.equal(r.code, 0, r.err);
    // The outside host has no route to the mesh subnet: it saw (and answered) the root's own address.
    assert.deepEqual(r.out.trim().split('\n'), ['200', `outside saw ${OUTSIDE.rootIp}`]);
  });

  it('down removes every namespace, veth and /etc/netns entry it made', async () => {
    const net = runState(m()).network!;
    assert.ok(net.prefix && net.hostLink);
    const r = await mizzen(['down', '--run-dir', m().run], undefined, 90_000);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(net.prefix!)),
      [],
    );
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.ok(!links.includes(`${net.hostLink}@`), links);
    const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns') : [];
    assert.deepEqual(
      etc.filter((n) => n.startsWith(net.prefix!)),
      [],
    );
    const rules = execFileSync('iptables-save', { encoding: 'utf8' });
    assert.ok(!rules.includes(net.prefix), `the outbound NAT rules are gone:\n${rules}`);
  });
});
