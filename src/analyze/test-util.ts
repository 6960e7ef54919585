// Test helpers for analyzers: resources from YAML (positions kept) and table-driven analyzer cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlText } from '../api/yaml-load.js';
import { setSource, type Resource } from '../api/resource.js';
import type { Diagnostic } from '../api/diagnostic.js';
import { analyzeResources } from './analyze.js';
import type { Analyzer } from './analyzer.js';
import { formatFinding } from './format.js';

/**
 * Resources straight from YAML, positions kept, without schema validation: analyzer tests then do not
 * depend on which kinds' validators are registered (the CLI tests cover real loading).
 */
export function resourcesFromYaml(yaml: string, file = 't.yaml'): Resource[] {
  const parsed = parseYamlText(yaml, file);
  assert.deepEqual(parsed.diagnostics, [], 'test YAML must parse');
  return parsed.docs.map((doc) => {
    const r = doc.value as Resource;
    if (r.kind !== 'Namespace') r.metadata.namespace ??= 'default';
    setSource(r, { file, index: doc.index, line: doc.pos.line, col: doc.pos.col });
    return r;
  });
}

/** A Service plus one Deployment per version, the usual shape of a bookinfo service. */
export function service(name: string, versions: string[], opts: { port?: number; ns?: string } = {}): string {
  const port = opts.port ?? 9080;
  const ns = opts.ns ?? 'default';
  const svc = `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    app: ${name}
  ports:
    - name: http
      port: ${port}
`;
  const deps = versions.map(
    (v) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}-${v}
  namespace: ${ns}
spec:
  selector:
    matchLabels:
      app: ${name}
      version: ${v}
  template:
    metadata:
      labels:
        app: ${name}
        version: ${v}
    spec:
      containers:
        - name: ${name}
          image: x
          ports:
            - containerPort: ${port}
`,
  );
  return [svc, ...deps].join('---\n');
}

/** The default world of the tables: reviews (v1, v2) and ratings (v1) in `default`. */
export const WORLD = [service('reviews', ['v1', 'v2']), service('ratings', ['v1'])].join('---\n');

/** An expected finding: its code, field path, and optionally its line in t.yaml and message pattern. */
export interface Expect {
  code: string;
  path: string;
  line?: number;
  message?: RegExp;
}

/** One row: YAML under test (file t.yaml), the world it sits in, and exactly the findings expected. */
export interface AnalyzerCase {
  name: string;
  yaml: string;
  /** Defaults to WORLD; '' for none. */
  world?: string;
  expect: Expect[];
}

/** Runs `analyzer` alone on world + case, returning its findings. */
export function runAnalyzer(analyzer: Analyzer, yaml: string, world = WORLD): Diagnostic[] {
  const resources = [...(world ? resourcesFromYaml(world, 'world.yaml') : []), ...resourcesFromYaml(yaml)];
  return analyzeResources(resources, [analyzer]);
}

/** Registers one test per case; each asserts the exact set of findings (code + path, line, message). */
export function runAnalyzerTable(analyzer: Analyzer, cases: readonly AnalyzerCase[]): void {
  for (const c of cases) {
    test(`${analyzer.name}: ${c.name}`, () => {
      const found = runAnalyzer(analyzer, c.yaml, c.world);
      const shown = found.map(formatFinding).join('\n') || '(none)';
      assert.equal(found.length, c.expect.length, `expected ${c.expect.length} findings, got:\n${shown}`);
      for (const e of c.expect) {
        const hit = found.find(
          (d) =>
            d.code === e.code &&
            d.path === e.path &&
            (e.line === undefined || (d.line === e.line && d.file === 't.yaml')) &&
            (e.message === undefined || e.message.test(d.message)),
        );
        assert.ok(hit, `expected ${e.code} at ${e.path}${e.line ? ` line ${e.line}` : ''}, got:\n${shown}`);
      }
    });
  }
}
