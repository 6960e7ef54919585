// A small load generator in the spirit of fortio: N requests over C concurrent callers, then a status summary.
// Usage: node load.mjs [-c 2] [-n 20] [-H 'name: value'] http://httpbin:8000/get  (honours HTTP_PROXY)
import { parseArgs } from 'node:util';
import { request } from '../lib/http-client.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    c: { type: 'string', default: '1' },
    n: { type: 'string', default: '10' },
    H: { type: 'string', multiple: true, default: [] },
    timeout: { type: 'string', default: '10000' },
  },
});
if (positionals.length !== 1) {
  console.error("usage: node load.mjs [-c CONNS] [-n REQUESTS] [-H 'name: value'] [--timeout MS] URL");
  process.exit(2);
}
const url = new URL(positionals[0]);
const target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
const headers = Object.fromEntries(
  values.H.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
);
const total = Number(values.n);
const concurrency = Math.max(1, Math.min(Number(values.c), total));
const counts = new Map();
let started = 0;

async function caller() {
  while (started < total) {
    started++;
    let key;
    try {
      key = `Code ${(await request(target, url.pathname + url.search, { headers, timeoutMs: Number(values.timeout) })).status}`;
    } catch (err) {
      key = `Error ${err?.code ?? err?.message ?? err}`;
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}

const t0 = Date.now();
await Promise.all(Array.from({ length: concurrency }, caller));
console.log(`${total} calls, ${concurrency} concurrent, ${((Date.now() - t0) / 1000).toFixed(3)} s`);
for (const [key, count] of [...counts].sort()) {
  console.log(`${key} : ${count} (${((100 * count) / total).toFixed(1)} %)`);
}
