// Size limits: an oversized file is refused unread, an oversized document is refused with its line
// and number while the other documents of the file load with their own positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPaths } from './load.js';
import { MAX_DOCUMENT_BYTES, MAX_FILE_BYTES } from './size-limits.js';

const service = (name: string): string => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 9080 }] }
`;

/** A ConfigMap whose one value makes the document about `bytes` long. */
const bigConfigMap = (bytes: number): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: big }\ndata:\n  blob: ${'x'.repeat(bytes)}\n`;

test('a file over the file limit is refused before it is read, named, and the other files load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-size-'));
  try {
    writeFileSync(join(dir, 'a-service.yaml'), service('reviews'));
    writeFileSync(join(dir, 'b-huge.yaml'), `# ${'y'.repeat(MAX_FILE_BYTES)}\n`);
    const r = loadPaths([dir]);
    assert.deepEqual(
      r.resources.map((x) => x.metadata.name),
      ['reviews'],
    );
    const [d] = r.diagnostics;
    assert.equal(r.diagnostics.length, 1);
    assert.equal(d.code, 'MZ-TOO-LARGE');
    assert.equal(d.severity, 'error');
    assert.equal(d.file, join(dir, 'b-huge.yaml'));
    assert.match(d.message, /file is 8\.0 MiB, over the 8\.0 MiB limit on a config file; split it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a document over the Kubernetes object limit is refused with its line and number; the others load with their positions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-size-'));
  try {
    const file = join(dir, 'mixed.yaml');
    // Document 1 at line 1, document 2 (too large) from its `---` on line 5, document 3 with an error on line 15.
    const text =
      service('ratings') +
      '---\n' +
      bigConfigMap(MAX_DOCUMENT_BYTES) +
      '---\n' +
      'apiVersion: v1\nkind: Service\nmetadata: { name: details }\nspec: { ports: [{ port: "x" }] }\n';
    writeFileSync(file, text);
    const r = loadPaths([file]);
    assert.deepEqual(
      r.resources.map((x) => x.metadata.name),
      ['ratings'],
    );
    const big = r.diagnostics.find((d) => d.code === 'MZ-TOO-LARGE');
    assert.ok(big, JSON.stringify(r.diagnostics));
    assert.equal(big.line, 5);
    assert.match(big.message, /^document 2 is 1\.5 MiB, over the 1\.5 MiB limit on one object/);
    const port = r.diagnostics.find((d) => d.path.includes('port'));
    assert.ok(port, JSON.stringify(r.diagnostics));
    assert.equal(port.line, 15);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file over the document limit made of documents under it loads whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-size-'));
  try {
    const file = join(dir, 'three.yaml');
    const doc = (name: string): string => bigConfigMap(MAX_DOCUMENT_BYTES * 0.6).replace('big', name);
    writeFileSync(file, [doc('one'), doc('two'), doc('three')].join('---\n'));
    const r = loadPaths([file]);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      r.resources.map((x) => x.metadata.name),
      ['one', 'two', 'three'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
