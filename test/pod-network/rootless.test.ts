// Rootless pod network mode end to end, as a user without root (the test makes one): `up` runs the mesh
// in a user namespace of its own, unmodified apps bind 0.0.0.0:80 in their own pod namespaces, traffic
// is captured, pod DNS answers service names, the gateway's port is published on the host, CLI
// commands reach into the namespace, and `down` leaves no process of the user behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { BIN } from '../../src/cli/test-util.js';
import { freeGatewayPort } from '../../src/local/ports.js';
import { readState, runPaths, type RunState } from '../../src/local/run-state.js';
import { eventually, request } from '../tasks/mesh.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/pod-network-rootless/', import.meta.url));
const FETCH = fileURLToPath(new URL('../../../test/fixtures/pod-network/fetch.mjs', import.meta.url));
/**
 * A user of this run's own: `after` kills every process of it, and another test run on the machine
 * (a second checkout's `npm test`) must not lose its mesh to that, nor see its processes in ours.
 */
const USER = `mzrl-${process.pid}`;

/** The test's unprivileged user, with the /etc/subuid and /etc/subgid ranges rootless mode maps. */
function ensureUser(): { uid: number; gid: number } {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'pipe' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
  }
  const has = (f: string): boolean =>
    existsSync(f) &&
    readFileSync(f, 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${USER}:`));
  if (!has('/etc/subuid') || !has('/etc/subgid'))
    execFileSync('usermod', ['--add-subuids', '300000-365535', '--add-subgids', '300000-365535', USER]);
  const id = (flag: string): number => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `mizzen ARGS` as the test user (its own groups, a plain PATH), to completion. */
function asUser(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      'setpriv',
      [`--reuid=${USER}`, `--regid=${USER}`, '--init-groups', process.execPath, BIN, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: tmp,
        env: { HOME: `/home/${USER}`, PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C' },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** pids of the test user's processes. */
function userProcesses(): number[] {
  try {
    return execFileSync('pgrep', ['-u', USER], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** `mizzen exec client -- ARGS…` as the test user. */
function inClient(...args: string[]): Promise<Run> {
  return asUser(['exec', 'client', '--run-dir', run, '--', ...args]);
}

let tmp = '';
let run = '';
let gatewayPort = 0;
let state: RunState;

describe('mizzen up without root: rootless pod network mode', { timeout: 300_000 }, () => {
  before(async () => {
    const { uid, gid } = ensureUser();
    tmp = mkdtempSync(join(tmpdir(), 'mz-rootless-'));
    chownSync(tmp, uid, gid);
    run = join(tmp, 'run');
    gatewayPort = await freeGatewayPort();
    const r = await asUser(
      [
        'up',
        FIXTURE,
        '-d',
        '--run-dir',
        run,
        '--xds-port',
        '0',
        '--debug-port',
        '0',
        '--gateway-port-offset',
        String(gatewayPort - 80),
        '--timeout',
        '150',
      ],
      200_000,
    );
    assert.equal(r.code, 0, `${r.out}${r.err}`);
    assert.match(r.out, /network: pod \(rootless: in a user namespace of its own\)/);
    state = readState(runPaths(run))!;
  });

  after(async () => {
    if (run) await asUser(['down', '--run-dir', run], 90_000);
    for (const pid of userProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    try {
      execFileSync('userdel', ['--remove', USER], { stdio: 'pipe' });
    } catch {
      // A process of the user not gone yet: the user stays, harmless.
    }
  });

  it('runs as the user in a network namespace of its own; each pod has its own IP', () => {
    assert.equal(state.network?.mode, 'pod');
    const nsPid = state.network?.nsPid;
    assert.ok(nsPid, 'the state names the namespace process');
    assert.notEqual(readlinkSync(`/proc/${nsPid}/ns/net`), readlinkSync('/proc/self/ns/net'));
    assert.notEqual(readlinkSync(`/proc/${nsPid}/ns/user`), readlinkSync('/proc/self/ns/user'));
    const owner = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${nsPid}/status`, 'utf8'))![1]);
    assert.equal(owner, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })));
    const ips = state.pods.map((p) => p.podIp);
    assert.equal(new Set(ips).size, 3, ips.join(' '));
    for (const p of state.pods) assert.ok(p.netns?.startsWith(run), `${p.name}: ${p.netns}`);
  });

  it('the gateway port is published on the host: a host request reaches httpbin over mTLS', async () => {
    const r = await request(`http://127.0.0.1:${gatewayPort}/headers`);
    assert.equal(r.status, 200, r.error ?? r.body);
    const seen = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.match(
      seen.headers['x-forwarded-client-cert'] ?? '',
      /spiffe:\/\/cluster\.local\/ns\/istio-system\//,
    );
  });

  it('status and exec as the user reach into the namespace: pods ready, DNS answers service names', async () => {
    const s = await asUser(['status', '--run-dir', run, '-o', 'json']);
    assert.equal(s.code, 0, s.err);
    const rows = (JSON.parse(s.out) as { pods: { name: string; ready: string }[] }).pods;
    for (const p of state.pods) assert.equal(rows.find((r) => r.name === p.name)?.ready, '2/2', s.out);
    const dns = await inClient('getent', 'hosts', 'httpbin', 'pyserver.default');
    assert.equal(dns.code, 0, dns.err);
    const ips = dns.out
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    assert.equal(ips.length, 2, dns.out);
    for (const ip of ips) assert.match(ip, /^10\.96\.\d+\.\d+$/);
  });

  it("Node's fetch and python3 -m http.server with no proxy settings: captured by the sidecars", async () => {
    const r = await inClient('node', FETCH, 'http://httpbin:8000/headers');
    assert.equal(r.code, 0, r.err);
    const [status, body] = r.out.split('\n');
    assert.equal(status, '200', r.out);
    const seen = JSON.parse(body) as { headers: Record<string, string> };
    // Added by the client's sidecar: the request went through capture, and on to httpbin's over mTLS.
    assert.ok(seen.headers['x-request-id'], body);
    assert.match(
      seen.headers['x-forwarded-client-cert'] ?? '',
      /spiffe:\/\/cluster\.local\/ns\/default\/sa\/default/,
    );
    const py = await inClient('node', FETCH, 'http://pyserver:5000/hello.txt');
    assert.equal(py.out, '200\nhello from python\n\n', py.err);
  });

  it('down stops everything: no process of the user is left, the pod namespaces are gone', async () => {
    const r = await asUser(['down', '--run-dir', run], 90_000);
    assert.equal(r.code, 0, r.err);
    await eventually(
      'no process of the user left',
      () => userProcesses().length === 0,
      15_000,
      100,
      () => execFileSync('ps', ['-u', USER, '-o', 'pid,args'], { encoding: 'utf8' }),
    );
    assert.equal(existsSync(join(run, 'netns')), false);
    const probe = await request(`http://127.0.0.1:${gatewayPort}/headers`);
    assert.equal(probe.status, 0, 'the published port is closed');
  });
});
