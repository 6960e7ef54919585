// Runs every compiled *.test.js under dist/ with Node's built-in test runner.
// Usage: node scripts/run-tests.mjs [substring ...]  (filters test files by path)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist', [])
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/ (did `npm run build` run?)');
  process.exit(1);
}
// A file still running after 20 minutes fails, named, instead of holding the run until CI's limit: the
// longest file takes ~2 minutes on a loaded machine, and a test that waits on an event that never
// comes would otherwise wait forever (Node's runner applies this timeout per file).
const args = ['--test', '--test-concurrency=2', '--test-timeout=1200000', '--test-reporter=spec', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
