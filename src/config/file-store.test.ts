// FileStore: live changes within a second, per-file rejection with positioned errors, events and status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from './file-store.js';
import type { ConfigChange } from './store.js';
import type { ConfigEventCounts } from './config-events.js';
import { waitFor } from '../api/test-util.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
`;

const vs = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: ${subset} }
`;

function subsetOf(store: FileStore): unknown {
  const r = store.snapshot().get('VirtualService', 'default', 'reviews') as any;
  return r?.spec.http[0].route[0].destination.subset;
}

/** The store's config event totals as sorted `type event count` lines. */
function countsOf(store: { eventCounts: ConfigEventCounts }): string[] {
  return store.eventCounts
    .totals()
    .map((c) => `${c.type} ${c.event} ${c.count}`)
    .sort();
}

test('FileStore applies changes, rejects an invalid file with its position and keeps its last good version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const logs: string[] = [];
  const store = new FileStore(dir, { log: (l) => logs.push(l) });
  const changes: ConfigChange[] = [];
  try {
    writeFileSync(join(dir, 'service.yaml'), SERVICE);
    writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
    await store.start();
    store.subscribe((c) => changes.push(c));
    assert.equal(store.snapshot().version, 1);
    assert.equal(store.snapshot().resources.length, 2);
    assert.equal(subsetOf(store), 'v1');
    const first = store.snapshot();

    // A valid edit applies, as one new version with an `updated` event.
    writeFileSync(join(dir, 'vs.yaml'), vs('v2'));
    await waitFor('the edit', () => subsetOf(store) === 'v2', 20_000);
    assert.equal(store.snapshot().version, 2);
    assert.equal(changes.length, 1);
    assert.deepEqual([...changes[0].kinds], ['VirtualService']);
    assert.equal(changes[0].events[0].type, 'updated');
    assert.equal(first.resources.length, 2, 'old snapshots are immutable');
    assert.equal(
      (first.get('VirtualService', 'default', 'reviews') as any).spec.http[0].route[0].destination.subset,
      'v1',
    );

    // An invalid edit is rejected: positioned error in status, logged once, the last good version serves.
    const bad = vs('v3').replace('    - route:', '    - rout:');
    writeFileSync(join(dir, 'vs.yaml'), bad);
    const rejected = await waitFor('the rejection', () =>
      store.status().files.find((f) => f.state === 'rejected'),
    );
    assert.match(rejected.file, /vs\.yaml$/);
    const err = rejected.diagnostics.find((d) => d.severity === 'error')!;
    assert.equal(err.line, 7);
    assert.match(err.path, /^spec\.http\[0\]/);
    assert.equal(rejected.resources, 1, 'the last good version still counts');
    assert.equal(subsetOf(store), 'v2');
    assert.equal(store.snapshot().version, 2);
    const status = store.status().resources.find((r) => r.kind === 'VirtualService')!;
    assert.equal(status.state, 'rejected');
    assert.equal(logs.filter((l) => l.includes('rejected')).length, 1);
    assert.match(logs[0], /vs\.yaml:7:\d+: spec\.http\[0\]/);
    // Touching the file without changing it does not log again.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'vs.yaml'), later, later);
    store.poll();
    assert.equal(logs.filter((l) => l.includes('rejected')).length, 1);

    // Other files still apply while one is rejected: a new file in a subdirectory, a deleted file.
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'ratings.yaml'), SERVICE.replace(/reviews/g, 'ratings'));
    await waitFor('the new file', () => store.snapshot().get('Service', 'default', 'ratings'));
    assert.equal(logs.filter((l) => l.includes('rejected')).length, 1, 'the touched file was logged again');
    assert.equal(changes.at(-1)!.events[0].type, 'added');
    unlinkSync(join(dir, 'service.yaml'));
    await waitFor('the deletion', () => !store.snapshot().get('Service', 'default', 'reviews'));
    assert.equal(changes.at(-1)!.events[0].type, 'deleted');

    // Fixing the file applies it.
    writeFileSync(join(dir, 'vs.yaml'), vs('v3'));
    await waitFor('the fix', () => subsetOf(store) === 'v3');
    assert.equal(store.status().files.find((f) => f.file.endsWith('vs.yaml'))!.state, 'ok');
    // pilot_k8s_cfg_events: the first load's adds count; the rejected edit is no event.
    assert.deepEqual(countsOf(store), [
      'Service add 2',
      'Service delete 1',
      'VirtualService add 1',
      'VirtualService update 2',
    ]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileStore: a file invalid from the start serves nothing and the rest loads; duplicates warn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const store = new FileStore(dir, { log: () => {} });
  try {
    writeFileSync(join(dir, 'a.yaml'), SERVICE);
    writeFileSync(join(dir, 'b.yaml'), SERVICE.replace('port: 9080', 'port: 99999'));
    writeFileSync(join(dir, 'c.yaml'), vs('v1') + '---\n' + vs('v2'));
    await store.start();
    const st = store.status();
    assert.equal(st.files.find((f) => f.file.endsWith('b.yaml'))!.state, 'rejected');
    assert.equal(st.files.find((f) => f.file.endsWith('a.yaml'))!.state, 'ok');
    assert.equal(store.snapshot().byKind('Service').length, 1);
    // Two definitions of one resource: the last wins, with a warning.
    assert.equal(subsetOf(store), 'v2');
    assert.equal(st.files.find((f) => f.file.endsWith('c.yaml'))!.state, 'warning');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Writes through a temporary file and a rename, as editors and `mizzen apply` do. */
function replaceFile(path: string, text: string): void {
  writeFileSync(path + '.tmp', text);
  renameSync(path + '.tmp', path);
}

test('FileStore watches every directory: with a 60 s polling period edits, new subdirectories and deletions apply from the watches (before any poll)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const logs: string[] = [];
  const store = new FileStore(dir, { pollMs: 60_000, log: (l) => logs.push(l) });
  // The polling period is 60 s: a change applied well before it came from the directory watches. A
  // deadline of half the period proves that without timing the apply (which flaked under load at 2 s).
  const timed = async (what: string, f: () => unknown): Promise<void> => {
    await waitFor(what, f, 30_000);
  };
  try {
    writeFileSync(join(dir, 'service.yaml'), SERVICE);
    writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
    await store.start();
    assert.equal(store.watching, true);
    assert.equal(store.pollMs, 60_000, 'a period set by the caller is kept');

    writeFileSync(join(dir, 'vs.yaml'), vs('v2'));
    await timed('an edit in place', () => subsetOf(store) === 'v2');
    replaceFile(join(dir, 'vs.yaml'), vs('v3'));
    await timed('a replaced file', () => subsetOf(store) === 'v3');

    // A subdirectory tree created after start: its files load, and it is watched from then on.
    mkdirSync(join(dir, 'team', 'ratings'), { recursive: true });
    writeFileSync(join(dir, 'team', 'ratings', 'svc.yaml'), SERVICE.replace(/reviews/g, 'ratings'));
    // The store watches a directory before listing it, so a second file right away is seen too.
    await timed('a file in a new subdirectory', () => store.snapshot().get('Service', 'default', 'ratings'));
    writeFileSync(join(dir, 'team', 'ratings', 'details.json'), JSON.stringify(serviceObject('details')));
    await timed('a second file in that subdirectory', () =>
      store.snapshot().get('Service', 'default', 'details'),
    );

    // Deleting a file removes its resources; deleting a directory removes everything under it.
    const before = store.snapshot().version;
    unlinkSync(join(dir, 'service.yaml'));
    await timed('the file deletion', () => !store.snapshot().get('Service', 'default', 'reviews'));
    assert.equal(store.snapshot().version, before + 1);
    rmSync(join(dir, 'team'), { recursive: true });
    await timed('the directory deletion', () => store.snapshot().byKind('Service').length === 0);
    assert.deepEqual(
      store.status().files.map((f) => f.file),
      [join(dir, 'vs.yaml')],
    );
    // Hidden entries and other extensions stay ignored.
    writeFileSync(join(dir, '.hidden.yaml'), SERVICE);
    writeFileSync(join(dir, 'notes.txt'), SERVICE);
    mkdirSync(join(dir, 'again'));
    writeFileSync(join(dir, 'again', 'svc.yml'), SERVICE);
    await timed('a new directory after the hidden file', () =>
      store.snapshot().get('Service', 'default', 'reviews'),
    );
    assert.equal(store.status().files.length, 2);
    assert.equal(logs.filter((l) => /cannot watch/.test(l)).length, 0);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileStore follows a root directory that is replaced, and a single-file root', async () => {
  const base = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const dir = join(base, 'config');
  const file = join(base, 'one.yaml');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
  writeFileSync(file, SERVICE);
  const store = new FileStore(dir, { pollMs: 60_000, log: () => {} });
  const single = new FileStore(file, { pollMs: 60_000, log: () => {} });
  try {
    await store.start();
    await single.start();
    assert.equal(subsetOf(store), 'v1');
    // The directory is moved away and a new one takes its name (a deploy tool swapping trees).
    const next = join(base, 'next');
    mkdirSync(next);
    writeFileSync(join(next, 'vs.yaml'), vs('v2'));
    renameSync(dir, join(base, 'old'));
    renameSync(next, dir);
    await waitFor('the new tree', () => subsetOf(store) === 'v2', 2000);
    writeFileSync(join(dir, 'vs.yaml'), vs('v3'));
    await waitFor('an edit in the new tree', () => subsetOf(store) === 'v3', 2000);

    assert.ok(single.snapshot().get('Service', 'default', 'reviews'));
    replaceFile(file, SERVICE.replace(/reviews/g, 'ratings'));
    await waitFor(
      'the replaced single file',
      () => single.snapshot().get('Service', 'default', 'ratings'),
      2000,
    );
    unlinkSync(file);
    await waitFor('the deleted single file', () => single.snapshot().resources.length === 0, 2000);
    writeFileSync(file, SERVICE);
    await waitFor(
      'the recreated single file',
      () => single.snapshot().get('Service', 'default', 'reviews'),
      2000,
    );
  } finally {
    await store.close();
    await single.close();
    rmSync(base, { recursive: true, force: true });
  }
});

test('FileStore polls when watching is off or the OS refuses a watch, and says so once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const logs: string[] = [];
  const polling = new FileStore(dir, { watch: false, pollMs: 100, log: () => {} });
  let refused = 0;
  const refusing = new FileStore(dir, {
    log: (l) => logs.push(l),
    watchFn: () => {
      refused++;
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), {
        code: 'ENOSPC',
      });
    },
  });
  try {
    writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
    await polling.start();
    await refusing.start();
    assert.equal(polling.watching, false);
    assert.equal(refusing.watching, false);
    assert.equal(refusing.pollMs, 250, 'the default polling period once watching failed');
    assert.equal(refused, 1, 'no further watches are tried');
    assert.equal(
      logs.filter((l) => /cannot watch .* \(ENOSPC\); scanning it every 250 ms/.test(l)).length,
      1,
    );

    writeFileSync(join(dir, 'vs.yaml'), vs('v2'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'svc.yaml'), SERVICE);
    for (const store of [polling, refusing]) {
      await waitFor('the edit by polling', () => subsetOf(store) === 'v2', 3000);
      await waitFor(
        'the new subdirectory by polling',
        () => store.snapshot().get('Service', 'default', 'reviews'),
        3000,
      );
    }
    unlinkSync(join(dir, 'sub', 'svc.yaml'));
    await waitFor(
      'the deletion by polling',
      () => !refusing.snapshot().get('Service', 'default', 'reviews'),
      3000,
    );
    assert.equal(refused, 1);
    assert.equal(logs.filter((l) => /cannot watch/.test(l)).length, 1, 'said once');
  } finally {
    await polling.close();
    await refusing.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function serviceObject(name: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 9080 }] },
  };
}

test('FileStore refuses a file over the size limit unread, names it, and keeps serving its last good version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-store-'));
  const logs: string[] = [];
  const store = new FileStore(dir, { log: (l) => logs.push(l) });
  try {
    writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
    await store.start();
    assert.equal(subsetOf(store), 'v1');
    // 9 MiB: a VirtualService followed by a huge comment.
    writeFileSync(join(dir, 'vs.yaml'), vs('v2') + `# ${'z'.repeat(9 * 1024 * 1024)}\n`);
    const rejected = await waitFor('the refusal', () =>
      store.status().files.find((f) => f.state === 'rejected'),
    );
    assert.match(rejected.file, /vs\.yaml$/);
    assert.equal(rejected.diagnostics[0].code, 'MZ-TOO-LARGE');
    assert.match(rejected.diagnostics[0].message, /file is 9\.0 MiB, over the 8\.0 MiB limit/);
    assert.equal(subsetOf(store), 'v1', 'the last good version keeps serving');
    assert.ok(
      logs.some((l) => l.includes(`rejected ${join(dir, 'vs.yaml')} (its previous version keeps serving)`)),
    );
    // Back under the limit, it applies again.
    writeFileSync(join(dir, 'vs.yaml'), vs('v3'));
    await waitFor('the fixed file', () => subsetOf(store) === 'v3');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
