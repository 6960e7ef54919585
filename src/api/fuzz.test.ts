// Fuzzes the loader with random and mutated YAML/JSON: it never throws or hangs, and always answers.
//
// The cases run in a worker thread so a hang (the loader is synchronous) can be detected and the
// worker killed: the worker publishes the index of the case it is on, the test watches it. Every case
// is generated from (SEED, index) alone, so a failure reproduces with its index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { loadText } from './load.js';
import type { Diagnostic } from './diagnostic.js';

/** Fixed so CI runs are reproducible; MIZZEN_FUZZ_SEED / MIZZEN_FUZZ_CASES explore further by hand. */
const SEED = Number(process.env.MIZZEN_FUZZ_SEED ?? 0x6d697a7a); // "mizz"
const CASES = Number(process.env.MIZZEN_FUZZ_CASES ?? 3000);
/** A case slower than this fails the test (ms); the loader normally takes well under 1 ms per case. */
const CASE_BUDGET_MS = 2000;
/** The watchdog kills the worker when one case runs this long (ms): a hang. */
const HANG_MS = 10000;

/** A small, fast, seedable PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
    - reviews
  http:
    - match:
        - headers:
            end-user:
              exact: jason
          uri:
            regex: "^/api/v[0-9]+/.*"
      fault:
        delay:
          fixedDelay: 7s
          percentage:
            value: 100
      route:
        - destination:
            host: reviews
            subset: v2
          weight: 80
        - destination:
            host: reviews
            subset: v3
          weight: 20
      timeout: 0.5s
      retries:
        attempts: 3
        perTryTimeout: 2s
`;

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
    outlierDetection:
      consecutive5xxErrors: 7
      interval: 5m
      baseEjectionTime: 15m
  subsets:
    - name: v1
      labels:
        version: v1
`;

const OTHERS = `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: vm1
spec:
  address: 10.0.0.1
  ports:
    http: 8080
  labels:
    app: legacy
---
apiVersion: v1
kind: Service
metadata:
  name: ratings
spec:
  selector:
    app: ratings
  ports:
    - name: http
      port: 9080
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
spec:
  mtls:
    mode: STRICT
`;

/** Valid-looking documents to mutate: inline ones plus whatever YAML examples/ holds. */
function corpus(): string[] {
  const docs = [VS, DR, OTHERS, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] })];
  const root = fileURLToPath(new URL('../../../examples', import.meta.url));
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      // One document per seed keeps cases small (fast) and the mutations concentrated.
      else if (/\.ya?ml$/.test(n))
        docs.push(
          ...readFileSync(p, 'utf8')
            .split(/^---$/m)
            .filter((d) => d.trim()),
        );
    }
  };
  walk(root);
  return docs;
}

const ODD_VALUES = [
  '~',
  'null',
  '[]',
  '{}',
  '""',
  'true',
  'no',
  '-0',
  '1e400',
  '-1e400',
  '99999999999999999999999999',
  '0x7fffffff',
  '0o777',
  '.inf',
  '-.inf',
  '.nan',
  '1.5',
  "'\\u0000'",
  '"\\0\\x01\\uFFFF"',
  '"😀🚀"',
  '"\u202eRTL\u200b"',
  '"\\uD800"',
  '{{ .Values.host }}',
  '"{{ .Values.host }}"',
  '*alias',
  '&anchor value',
  '!!binary aGVsbG8=',
  '!!timestamp 2001-12-14t21:59:43.10-05:00',
  '!custom x',
  '!!set {a, b}',
  '!!omap [a: 1]',
  '|\n  block',
  '>-\n  folded',
  '? [complex, key]\n  : v',
  '<<: {a: 1}',
  '- - - nested',
  '%YAML 1.1',
  '---',
  '...',
];

const INSERTS = [
  '\t',
  '  ',
  '\n',
  ': ',
  '- ',
  '#',
  '//',
  '"',
  "'",
  '{',
  '}',
  '[',
  ']',
  ',',
  '&a ',
  '*a',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '\r',
  '\u0000',
  '\uFEFF',
  'ﬁ',
  '𝔸',
];

/** One generated case: a label of how it was made, and the text. */
export interface FuzzCase {
  readonly how: string;
  readonly text: string;
}

/** Builds case `index` from the seed and the corpus, deterministically. */
export function makeCase(seed: number, index: number, docs: readonly string[]): FuzzCase {
  const rnd = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const kind = int(20);
  if (kind === 0) {
    const n = int(400);
    const bytes = Array.from({ length: n }, () => String.fromCharCode(int(rnd() < 0.8 ? 128 : 65536)));
    return { how: 'random characters', text: bytes.join('') };
  }
  if (kind === 1) {
    const flow = rnd() < 0.5;
    // Block nesting grows quadratically in text (indentation), so it goes less deep.
    const depth = flow ? 50 + int(700) : 50 + int(200);
    const text = flow
      ? '['.repeat(depth) + ']'.repeat(depth)
      : Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    return { how: `deep nesting ${depth} (${flow ? 'flow' : 'block'})`, text };
  }
  if (kind === 2) {
    const n = 1 + int(16);
    const text = `a: &a [1,2,3]\n${Array.from({ length: n }, (_, i) => `b${i}: &b${i} [*${i === 0 ? 'a' : `b${i - 1}`}, *${i === 0 ? 'a' : `b${i - 1}`}]`).join('\n')}\n`;
    return { how: `alias bomb ${n}`, text };
  }
  let text = pick(docs);
  if (kind === 3) text = JSON.stringify(toJsonish(text));
  const steps: string[] = [];
  const count = 1 + int(4);
  for (let s = 0; s < count; s++) {
    const lines = text.split('\n');
    switch (int(10)) {
      case 0: {
        const at = int(text.length + 1);
        const len = 1 + int(8);
        text = text.slice(0, at) + text.slice(at + len);
        steps.push(`delete ${len}@${at}`);
        break;
      }
      case 1: {
        const at = int(text.length + 1);
        const len = 1 + int(20);
        text = text.slice(0, at) + text.slice(at, at + len) + text.slice(at);
        steps.push(`duplicate ${len}@${at}`);
        break;
      }
      case 2: {
        const a = int(lines.length);
        const b = int(lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        text = lines.join('\n');
        steps.push(`swap lines ${a},${b}`);
        break;
      }
      case 3: {
        const a = int(lines.length);
        if (rnd() < 0.5) lines.splice(a, 1);
        else lines.splice(a, 0, lines[a] ?? '');
        text = lines.join('\n');
        steps.push(`delete/duplicate line ${a}`);
        break;
      }
      case 4: {
        const a = int(lines.length);
        lines[a] = '\t' + (lines[a] ?? '');
        text = lines.join('\n');
        steps.push(`tab line ${a}`);
        break;
      }
      case 5: {
        const at = int(text.length + 1);
        const ins = pick(INSERTS);
        text = text.slice(0, at) + ins + text.slice(at);
        steps.push(`insert ${JSON.stringify(ins)}@${at}`);
        break;
      }
      case 6:
      case 7: {
        const a = int(lines.length);
        const line = lines[a] ?? '';
        const colon = line.indexOf(': ');
        const v = pick(ODD_VALUES);
        lines[a] = colon >= 0 ? `${line.slice(0, colon + 2)}${v}` : `${line}${v}`;
        text = lines.join('\n');
        steps.push(`value ${JSON.stringify(v)} line ${a}`);
        break;
      }
      case 8: {
        const a = int(lines.length);
        lines[a] = (lines[a] ?? '').replace(
          /^(\s*)(- )?([A-Za-z]+)/,
          (_m, sp: string, dash: string | undefined, k: string) => `${sp}${dash ?? ''}${k.toUpperCase()}`,
        );
        text = lines.join('\n');
        steps.push(`mangle key line ${a}`);
        break;
      }
      default: {
        const shuffled = [...text].sort(() => rnd() - 0.5).join('');
        const at = int(text.length + 1);
        text = text.slice(0, at) + shuffled.slice(0, 1 + int(10)) + text.slice(at);
        steps.push(`splice shuffled chars @${at}`);
        break;
      }
    }
  }
  return { how: `${kind === 3 ? 'json ' : ''}${steps.join(', ')}`, text };
}

/** A rough YAML-to-object conversion good enough to make JSON seeds (a mapping of key → string lines). */
function toJsonish(yaml: string): unknown {
  const r = loadText(yaml, 'seed.yaml');
  return r.resources[0] ?? { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } };
}

/** What is wrong with the loader's answer, or null. */
export function checkAnswer(text: string, r: ReturnType<typeof loadText>): string | null {
  if (!Array.isArray(r.resources) || !Array.isArray(r.diagnostics))
    return 'answer is not { resources, diagnostics }';
  for (const d of r.diagnostics) {
    const bad =
      d.file !== 'fuzz.yaml'
        ? `file ${d.file}`
        : !Number.isInteger(d.line) || d.line < 1
          ? `line ${d.line}`
          : !Number.isInteger(d.col) || d.col < 1
            ? `col ${d.col}`
            : typeof d.message !== 'string' || d.message.trim() === ''
              ? 'empty message'
              : !['error', 'warning', 'info'].includes(d.severity)
                ? `severity ${String(d.severity)}`
                : null;
    if (bad) return `diagnostic with bad ${bad}: ${JSON.stringify(d)}`;
  }
  if (r.resources.length === 0 && r.diagnostics.length === 0 && !looksEmpty(text))
    return 'no resources and no diagnostics for non-empty input';
  for (const res of r.resources) {
    if (typeof res.kind !== 'string' || typeof res.metadata?.name !== 'string')
      return 'resource without kind/name';
  }
  return null;
}

/** Input that legitimately yields nothing: blank, comments, document markers, nulls, an empty List. */
function looksEmpty(text: string): boolean {
  // Judged with the yaml library directly, independently of the loader's own parsing.
  return parseAllDocuments(text).every((doc) => {
    if (doc.errors.length > 0) return false;
    const c = doc.contents;
    if (c === null || (isScalar(c) && c.value === null)) return true;
    if (!isMap(c) || (c.get('kind') as unknown) !== 'List') return false;
    const items = c.get('items', true);
    return isSeq(items) && items.items.length === 0;
  });
}

/** Result the worker sends back. */
interface WorkerReport {
  failures: { index: number; how: string; problem: string; text: string }[];
  slowest: { index: number; ms: number; how: string }[];
  ran: number;
  totalMs: number;
}

function runWorker(): void {
  const { seed, cases, progress } = workerData as {
    seed: number;
    cases: number;
    progress: SharedArrayBuffer;
  };
  const at = new Int32Array(progress);
  const docs = corpus();
  const report: WorkerReport = { failures: [], slowest: [], ran: 0, totalMs: 0 };
  for (let i = 0; i < cases; i++) {
    Atomics.store(at, 0, i);
    const c = makeCase(seed, i, docs);
    const t0 = performance.now();
    let problem: string | null;
    try {
      problem = checkAnswer(c.text, loadText(c.text, 'fuzz.yaml'));
    } catch (err) {
      problem = `threw: ${(err as Error)?.stack ?? String(err)}`;
    }
    const ms = performance.now() - t0;
    report.totalMs += ms;
    report.slowest.push({ index: i, ms, how: c.how });
    report.slowest.sort((a, b) => b.ms - a.ms).splice(5);
    if (!problem && ms > CASE_BUDGET_MS) problem = `took ${ms.toFixed(0)} ms (budget ${CASE_BUDGET_MS} ms)`;
    if (problem && report.failures.length < 10)
      report.failures.push({ index: i, how: c.how, problem, text: c.text.slice(0, 600) });
    report.ran++;
  }
  parentPort!.postMessage(report);
}

if (!isMainThread && (workerData as { fuzz?: boolean } | null)?.fuzz) runWorker();

if (isMainThread) {
  test(`loader fuzz: ${CASES} random and mutated documents (seed ${SEED})`, async (t) => {
    const progress = new SharedArrayBuffer(4);
    const at = new Int32Array(progress);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { fuzz: true, seed: SEED, cases: CASES, progress },
    });
    let last = -1;
    let since = Date.now();
    const report = await new Promise<WorkerReport>((resolve, reject) => {
      const watchdog = setInterval(() => {
        const now = Atomics.load(at, 0);
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since > HANG_MS) {
          clearInterval(watchdog);
          const c = makeCase(SEED, now, corpus());
          void worker.terminate();
          reject(new Error(`loader hung on case ${now} (${c.how}):\n${c.text.slice(0, 600)}`));
        }
      }, 200);
      worker.once('message', (m: WorkerReport) => {
        clearInterval(watchdog);
        resolve(m);
      });
      worker.once('error', (err) => {
        clearInterval(watchdog);
        reject(err);
      });
    });
    await worker.terminate();
    t.diagnostic(`loader time ${report.totalMs.toFixed(0)} ms; slowest cases:`);
    for (const s of report.slowest) t.diagnostic(`  ${s.index} ${s.ms.toFixed(1)} ms ${s.how.slice(0, 80)}`);
    assert.equal(report.ran, CASES);
    const shown = report.failures
      .map((f) => `case ${f.index} (${f.how}): ${f.problem}\n--- input ---\n${f.text}\n-------------`)
      .join('\n');
    assert.equal(report.failures.length, 0, `loader failures (seed ${SEED}):\n${shown}`);
  });

  test('adversarial sizes load in linear time: a 30,000-key map, 30,000 // lines', () => {
    // Both were quadratic once (the yaml library's duplicate-key check; a per-line diagnostics scan):
    // 30,000 keys took ~15 s of CPU. The bound is on this thread's CPU time, not the wall clock, so
    // a machine loaded by other processes does not fail it; linear code needs well under 1 s.
    const loadCpu = (text: string): [ReturnType<typeof loadText>, number] => {
      const t0 = process.cpuUsage();
      const out = loadText(text, 'fuzz.yaml');
      const d = process.cpuUsage(t0);
      return [out, (d.user + d.system) / 1000];
    };
    const wide = Array.from({ length: 30000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const [r, wideMs] = loadCpu(wide);
    assert.ok(wideMs < 6000, `wide map took ${wideMs.toFixed(0)} ms of CPU`);
    assert.match(r.diagnostics[0]?.message ?? '', /is required: the resource kind/);
    const comments = '// not a YAML comment\n'.repeat(30000);
    const [c, commentMs] = loadCpu(comments);
    assert.ok(commentMs < 6000, `comment lines took ${commentMs.toFixed(0)} ms of CPU`);
    assert.equal(c.diagnostics.filter((d) => /start with "#"/.test(d.message)).length, 30000);
  });

  test('duplicate keys are reported at each repeated key, in any map, and reject the document', () => {
    const r = loadText('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"1": x\n1: y\n', 'fuzz.yaml');
    assert.equal(r.resources.length, 0);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.line, d.col, d.message]),
      [
        [4, 3, 'YAML syntax error: duplicate key "c"; each field may appear once per object'],
        [5, 1, 'YAML syntax error: duplicate key "a"; each field may appear once per object'],
        [7, 1, 'YAML syntax error: duplicate key "1"; each field may appear once per object'],
      ],
    );
  });

  test('fuzz cases are reproducible from seed and index', () => {
    const docs = corpus();
    for (const i of [0, 1, 7, 123, 2999]) assert.deepEqual(makeCase(SEED, i, docs), makeCase(SEED, i, docs));
    assert.notDeepEqual(makeCase(SEED, 1, docs), makeCase(SEED, 2, docs));
  });

  test('the invariant check rejects unpositioned and silent answers', () => {
    const d: Diagnostic = { severity: 'error', file: 'fuzz.yaml', line: 0, col: 1, path: '', message: 'x' };
    assert.match(checkAnswer('a: 1', { resources: [], diagnostics: [d] }) ?? '', /bad line 0/);
    assert.match(
      checkAnswer('a: 1', { resources: [], diagnostics: [] }) ?? '',
      /no resources and no diagnostics/,
    );
    assert.equal(checkAnswer('# only a comment\n---\n', { resources: [], diagnostics: [] }), null);
  });
}
