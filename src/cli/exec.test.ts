// `mizzen exec` runs a command with a pod's identity env (its sidecar as HTTP proxy) and returns its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime, runPaths, writeState, type RunState } from '../local/run-state.js';

const bin = new URL('../../../bin/mizzen.js', import.meta.url).pathname;

/** A run directory whose state says this test process is the `up` process, with one sleep pod. */
function fakeRun(): { dir: string; state: RunState } {
  const dir = mkdtempSync(join(tmpdir(), 'mz-exec-'));
  const state: RunState = {
    version: 1,
    pid: process.pid,
    pidStartedAt: processStartTime(process.pid) ?? Date.now(),
    phase: 'ready',
    manifests: '/nowhere',
    startedAt: Date.now(),
    updatedAt: Date.now(),
    xdsAddress: '127.0.0.1:1',
    debugAddress: '127.0.0.1:1',
    gatewayPortOffset: 8000,
    server: { process: 'mizzen-server' },
    gateway: {
      process: 'istio-ingressgateway',
      nodeId: 'router~127.0.0.1~gw.istio-system~x',
      adminPort: 1,
      ports: [],
    },
    pods: [
      {
        name: 'sleep-7f9c8d6b5-abcde',
        namespace: 'default',
        workload: 'sleep',
        workloadKind: 'Deployment',
        labels: { app: 'sleep' },
        serviceAccount: 'sleep',
        podIp: '127.1.7.8',
        appIp: '127.2.7.8',
        ports: [],
        appProcesses: ['sleep-7f9c8d6b5-abcde'],
        sidecar: { process: 'sleep-7f9c8d6b5-abcde sidecar', adminPort: 1, nodeId: 'sidecar~127.1.7.8~x' },
        createdAt: Date.now(),
      },
    ],
    processes: {},
  };
  writeState(runPaths(dir), state);
  return { dir, state };
}

const printEnv =
  'const e = process.env; console.log(JSON.stringify([e.HTTP_PROXY, e.http_proxy, e.POD_NAME, e.HOSTNAME, ' +
  'e.POD_NAMESPACE, e.SERVICE_ACCOUNT, e.INSTANCE_IP, e.NO_PROXY ?? null])); process.exit(7)';

test('exec by workload name sets the pod identity env and returns the exit code of the command', () => {
  const { dir } = fakeRun();
  try {
    const r = spawnSync(
      process.execPath,
      [bin, 'exec', 'sleep', '--run-dir', dir, '--', process.execPath, '-e', printEnv],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_PROXY: '*' },
      },
    );
    assert.equal(r.status, 7, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      'http://127.1.7.8:15001',
      'http://127.1.7.8:15001',
      'sleep-7f9c8d6b5-abcde',
      'sleep-7f9c8d6b5-abcde',
      'default',
      'sleep',
      '127.1.7.8',
      null,
    ]);
    const byPod = spawnSync(process.execPath, [
      bin,
      'exec',
      'pod/sleep-7f9c8d6b5-abcde',
      '--run-dir',
      dir,
      '--',
      'true',
    ]);
    assert.equal(byPod.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec fails clearly for an unknown pod, a missing command and a run dir without a mesh', () => {
  const { dir } = fakeRun();
  try {
    const unknown = spawnSync(process.execPath, [bin, 'exec', 'nope', '--run-dir', dir, '--', 'true'], {
      encoding: 'utf8',
    });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no pod or workload named "nope"/);
    const missing = spawnSync(
      process.execPath,
      [bin, 'exec', 'sleep', '--run-dir', dir, '--', '/no/such/cmd'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(missing.status, 127);
    const usage = spawnSync(process.execPath, [bin, 'exec', 'sleep', '--run-dir', dir], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    const empty = mkdtempSync(join(tmpdir(), 'mz-exec-'));
    const none = spawnSync(process.execPath, [bin, 'exec', 'sleep', '--run-dir', empty, '--', 'true'], {
      encoding: 'utf8',
    });
    rmSync(empty, { recursive: true, force: true });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no mesh is running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
