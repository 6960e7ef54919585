// Checks the sleep workload stays up until told to stop, and that load.mjs counts status codes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXAMPLES, spawnApp, waitForLine, type App } from './harness.js';

const run = promisify(execFile);
let httpbin: App;

before(async () => {
  httpbin = await spawnApp('httpbin/httpbin.mjs');
});

after(async () => {
  await httpbin?.stop();
});

test('sleep stays up and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [path.join(EXAMPLES, 'sleep/sleep.mjs')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise((resolve) => child.stdout.once('data', resolve));
  child.stdout.resume();
  await started;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(child.exitCode, null, 'still running');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

async function load(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(EXAMPLES, 'sleep/load.mjs'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 10_000,
  });
  return stdout;
}

test('load.mjs sends N requests over C callers and counts the codes', async () => {
  const out = await load(['-c', '3', '-n', '12', `http://127.0.0.1:${httpbin.port}/status/418`]);
  assert.match(out, /^12 calls, 3 concurrent/);
  assert.match(out, /Code 418 : 12 \(100\.0 %\)/);
});

test('load.mjs goes through HTTP_PROXY in absolute form', async () => {
  const out = await load(['-n', '2', 'http://httpbin:8000/status/202'], {
    HTTP_PROXY: `http://127.0.0.1:${httpbin.port}`,
  });
  assert.match(out, /Code 202 : 2 \(100\.0 %\)/);
  assert.ok(
    await waitForLine(httpbin, '"GET http://httpbin:8000/status/202 HTTP/1.1" 202'),
    httpbin.lines.join('\n'),
  );
});
