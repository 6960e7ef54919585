// Loader behaviour: positions, YAML/JSON/List forms, name styles, nulls, unknown fields, syntax errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './test-util.js';
import { loadPaths, loadSources } from './load.js';
import { formatDiagnostic } from './diagnostic.js';
import { sourceOf } from './resource.js';
import { valuePos } from './positions.js';

const we = (spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1\nspec:\n${spec}`;

test('errors read file:line:col: path: message', () => {
  const r = load(we('  address: 10.0.0.1\n  ports:\n    http: 70000\n'));
  const d = r.diagnostics.find((x) => x.severity === 'error');
  assert.ok(d);
  assert.equal(
    formatDiagnostic(d),
    't.yaml:8:11: spec.ports.http: must be a port number between 1 and 65535, got 70000',
  );
});

test('every value keeps its source position', () => {
  const r = load(we('  address: 10.0.0.1\n  labels:\n    app: vm\n'));
  assert.equal(r.diagnostics.length, 0);
  const res = r.resources[0];
  assert.deepEqual(sourceOf(res), { file: 't.yaml', index: 0, line: 1, col: 1 });
  const spec = res.spec as Record<string, unknown>;
  assert.deepEqual(valuePos(spec, 'address'), { file: 't.yaml', line: 6, col: 12 });
  assert.deepEqual(valuePos(spec.labels as object, 'app'), { file: 't.yaml', line: 8, col: 10 });
});

test('snake_case and lowerCamelCase field names are both accepted', () => {
  const r = load(we('  address: 10.0.0.1\n  service_account: bookinfo\n'));
  assert.equal(r.diagnostics.length, 0, r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.equal((r.resources[0].spec as { serviceAccount: string }).serviceAccount, 'bookinfo');
});

test('the same field in both styles is an error', () => {
  const r = load(we('  address: 10.0.0.1\n  serviceAccount: a\n  service_account: b\n'));
  assert.match(r.diagnostics[0].message, /given twice/);
});

test('null values are pruned as Kubernetes does', () => {
  const r = load(we('  address: 10.0.0.1\n  network: null\n  labels: ~\n'));
  assert.equal(r.diagnostics.length, 0);
  assert.deepEqual(Object.keys(r.resources[0].spec as object), ['address']);
});

test('unknown fields are errors with a suggestion, positioned on the key', () => {
  const r = load(we('  adress: 10.0.0.1\n'));
  const d = r.diagnostics.find((x) => x.code === 'MZ-UNKNOWN-FIELD');
  assert.ok(d);
  assert.equal(d.path, 'spec.adress');
  assert.match(d.message, /unknown field "adress"; did you mean "address"\?/);
  assert.equal(d.line, 6);
  assert.equal(d.col, 3);
});

test('multi-document YAML with --- and ... ; empty documents skipped', () => {
  const text = `${we('  address: 10.0.0.1\n')}---\n---\n${we('  address: 10.0.0.2\n').replace('vm1', 'vm2')}...\n`;
  const r = load(text);
  assert.equal(r.diagnostics.length, 0, r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.deepEqual(
    r.resources.map((x) => x.metadata.name),
    ['vm1', 'vm2'],
  );
  assert.equal(sourceOf(r.resources[1])!.index, 2);
});

test('JSON documents and Kubernetes List', () => {
  const json = JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'WorkloadEntry',
          metadata: { name: 'a' },
          spec: { address: '1.2.3.4' },
        },
        {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'WorkloadEntry',
          metadata: { name: 'b' },
          spec: { address: 'not a host!' },
        },
      ],
    },
    null,
    2,
  );
  const r = load(json);
  assert.deepEqual(
    r.resources.map((x) => x.metadata.name),
    ['a'],
  );
  const d = r.diagnostics.find((x) => x.severity === 'error');
  assert.ok(d);
  assert.equal(d.path, 'spec.address');
  assert.ok(d.line > 10, `line ${d.line} points into the second item`);
});

test('namespace defaults to "default"', () => {
  const r = load(we('  address: 10.0.0.1\n'));
  assert.equal(r.resources[0].metadata.namespace, 'default');
});

test('YAML syntax: tabs in indentation name the line and say to use spaces', () => {
  const r = load('apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n');
  const d = r.diagnostics[0];
  assert.equal(d.line, 4);
  assert.match(d.message, /tab used for indentation; indent with spaces/);
});

test('YAML syntax: // comments are named', () => {
  const r = load('apiVersion: v1\n// a comment\nkind: Namespace\nmetadata:\n  name: x\n');
  const d = r.diagnostics.find((x) => x.line === 2);
  assert.ok(d, r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.match(d.message, /comments start with "#"/);
});

test('YAML syntax: bad nesting names the line', () => {
  const r = load('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n    labels: y\n');
  assert.equal(r.resources.length, 0);
  assert.ok(
    r.diagnostics.some((d) => d.line >= 4 && /YAML syntax error/.test(d.message)),
    r.diagnostics.map(formatDiagnostic).join('\n'),
  );
});

test('unknown kind suggests the nearest known kind', () => {
  const r = load('apiVersion: networking.istio.io/v1\nkind: WorkloadEntri\nmetadata:\n  name: x\n');
  assert.match(r.diagnostics[0].message, /unknown kind "WorkloadEntri"; did you mean "WorkloadEntry"\?/);
});

test('known kind with a wrong apiVersion lists the served versions', () => {
  const r = load(
    'apiVersion: networking.istio.io/v2\nkind: WorkloadEntry\nmetadata:\n  name: x\nspec:\n  address: 1.1.1.1\n',
  );
  assert.equal(r.diagnostics[0].path, 'apiVersion');
  assert.match(
    r.diagnostics[0].message,
    /served as networking\.istio\.io\/v1alpha3, networking\.istio\.io\/v1beta1, networking\.istio\.io\/v1/,
  );
});

test('missing metadata.name and bad names are errors', () => {
  const r = load(
    'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  namespace: Bad_NS\nspec:\n  address: 1.1.1.1\n',
  );
  const paths = r.diagnostics.map((d) => d.path);
  assert.ok(paths.includes('metadata.name'));
  assert.ok(paths.includes('metadata.namespace'));
});

test('loadPaths reads directories recursively (.yaml/.yml/.json), files and stdin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-load-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.yaml'), we('  address: 10.0.0.1\n'));
  writeFileSync(join(dir, 'sub', 'b.yml'), we('  address: 10.0.0.2\n').replace('vm1', 'vm2'));
  writeFileSync(
    join(dir, 'sub', 'c.json'),
    JSON.stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name: 'vm3' },
      spec: { address: '10.0.0.3' },
    }),
  );
  writeFileSync(join(dir, 'notes.txt'), 'not config');
  const r = loadPaths([dir, '-'], { stdin: () => we('  address: 10.0.0.4\n').replace('vm1', 'vm4') });
  assert.equal(r.diagnostics.length, 0, r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.deepEqual(r.resources.map((x) => x.metadata.name).sort(), ['vm1', 'vm2', 'vm3', 'vm4']);
  const missing = loadPaths([join(dir, 'nope.yaml')]);
  assert.match(missing.diagnostics[0].message, /no such file/);
});

test('a resource defined twice warns and the last wins', () => {
  const r = loadSources([
    { file: 't.yaml', text: `${we('  address: 10.0.0.1\n')}---\n${we('  address: 10.0.0.9\n')}` },
  ]);
  assert.equal(r.resources.length, 1);
  assert.equal((r.resources[0].spec as { address: string }).address, '10.0.0.9');
  assert.ok(r.diagnostics.some((d) => d.code === 'MZ-DUPLICATE'));
});

test('an Envoy bootstrap beside manifests is skipped with a warning, not an error', () => {
  const r = load('admin:\n  address: {}\nstatic_resources:\n  listeners: []\n');
  assert.equal(r.resources.length, 0);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0].severity, 'warning');
  assert.equal(r.diagnostics[0].code, 'MZ-NOT-A-RESOURCE');
});
