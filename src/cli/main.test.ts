// Runs the real `mizzen` binary: dispatch, help, version, "did you mean", and usage errors of every command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { commands } from './commands.js';
import { runMizzen } from './test-util.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** A Node stack frame in output: what a user must never see for bad usage. */
const STACK = /^\s+at /m;

test('unknown command with no near miss exits 2 and lists commands', async () => {
  const r = await runMizzen(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "frobnicate"/);
  assert.match(r.err, /^ {2}up /m);
  assert.doesNotMatch(r.err, /Did you mean/);
});

test('a mistyped command suggests the near one, as kubectl does', async () => {
  const r = await runMizzen(['stauts']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "stauts"\n\nDid you mean this\?\n\tstatus\n/);
  const prefix = await runMizzen(['proxy-c']);
  assert.match(prefix.err, /Did you mean this\?\n\tproxy-config\n/);
});

test('help exits 0; help CMD prints that command’s help', async () => {
  const r = await runMizzen(['help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /usage: mizzen/);
  const h = await runMizzen(['help', 'status']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^usage: mizzen status /);
  const bad = await runMizzen(['help', 'statsu']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown command "statsu"[\s\S]*\tstatus/);
});

test('version and --version print the package version', async () => {
  for (const args of [['version'], ['--version']]) {
    const r = await runMizzen(args);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `mizzen version ${VERSION}`);
  }
  const json = await runMizzen(['version', '-o', 'json']);
  assert.equal((JSON.parse(json.out) as { version: string }).version, VERSION);
});

test('every command answers an unknown flag with one line plus its usage, exit 2, no stack trace', async () => {
  for (const name of Object.keys(commands)) {
    const r = await runMizzen([name, '--bogus-flag']);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    const lines = r.err.split('\n');
    assert.equal(lines[0], `mizzen ${name}: unknown flag --bogus-flag`);
    assert.match(lines.slice(1).join('\n'), new RegExp(`^usage:\\s+mizzen ${name}\\b`), name);
    assert.doesNotMatch(r.err, STACK, name);
    assert.equal(r.out, '', name);
  }
});

test('a near-miss flag is suggested; a missing value and an extra argument are one line each', async () => {
  const typo = await runMizzen(['status', '--run-dri', '/nonexistent']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /^mizzen status: unknown flag --run-dri \(did you mean --run-dir\?\)\n/);
  const missing = await runMizzen(['get', 'vs', '-n']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^mizzen get: flag -n, --namespace needs a value\nusage: mizzen get /);
  const extra = await runMizzen(['status', 'extra']);
  assert.equal(extra.code, 2);
  assert.match(extra.err, /^mizzen status: unexpected argument "extra"\n/);
  const noCmd = await runMizzen(['exec', 'sleep']);
  assert.equal(noCmd.code, 2);
  assert.match(noCmd.err, /^mizzen exec: expected -- CMD \[ARGS…\]\nusage: mizzen exec /);
  for (const r of [typo, missing, extra, noCmd]) assert.doesNotMatch(r.err, STACK);
});

test('--help of a command prints its help on stdout and exits 0', async () => {
  for (const name of ['exec', 'validate', 'server', 'proxy']) {
    const r = await runMizzen([name, '--help']);
    assert.equal(r.code, 0, name);
    assert.match(r.out, /usage:/, name);
  }
});
