// The run directory's config: manifests copied in (networking/ skipped, Pods set aside), apply replaces
// earlier definitions wherever they are, delete removes them, list reads everything back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPaths } from '../api/load.js';
import {
  applyResources,
  deleteResources,
  listResources,
  manifestFiles,
  originalDir,
  userPodsDir,
  writeManifests,
} from './config-dir.js';
import { runPaths } from './run-state.js';
import { waitFor } from '../api/test-util.js';

const vs = (host: string, subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${host}
spec:
  hosts: [${host}]
  http:
    - route:
        - destination: { host: ${host}, subset: ${subset} }
`;

const svc = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: ${name} }
  ports: [{ port: 9080, name: http }]
`;

function fixture(): { src: string; root: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'mz-cfg-'));
  const src = join(base, 'app');
  mkdirSync(join(src, 'networking'), { recursive: true });
  mkdirSync(join(src, 'more'), { recursive: true });
  writeFileSync(
    join(src, 'app.yaml'),
    `# the app\n${svc('reviews')}---\n${vs('reviews', 'v1')}---\n${svc('ratings')}---
apiVersion: v1
kind: Pod
metadata: { name: debug, labels: { app: debug } }
spec:
  containers: [{ name: c, command: [node, x.mjs] }]
`,
  );
  writeFileSync(join(src, 'more', 'details.yaml'), svc('details'));
  writeFileSync(join(src, 'networking', 'reviews-v2.yaml'), vs('reviews', 'v2'));
  writeFileSync(join(src, 'README.md'), '# not yaml');
  return { src, root: join(base, 'run'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

const keysOf = (paths: ReturnType<typeof runPaths>) =>
  listResources(paths)
    .resources.map((s) => `${s.resource.kind}/${s.resource.metadata.name}`)
    .sort();

test('up copies the manifests (subfolders kept, networking/ skipped) and sets user Pods aside', () => {
  const f = fixture();
  try {
    const files = manifestFiles(f.src);
    assert.deepEqual(
      files.map((x) => x.slice(f.src.length + 1)),
      ['app.yaml', 'more/details.yaml'],
    );
    const inside = runPaths(join(f.src, 'run'));
    mkdirSync(inside.applied, { recursive: true });
    writeFileSync(join(inside.applied, 'x.yaml'), svc('x'));
    assert.equal(manifestFiles(f.src, inside.root).length, 2, 'a run dir inside the folder is not read back');
    const paths = runPaths(f.root);
    mkdirSync(paths.applied, { recursive: true });
    writeFileSync(join(paths.applied, 'stale.yaml'), svc('stale'));
    writeManifests(paths, f.src, files);
    assert.ok(!existsSync(join(paths.applied, 'stale.yaml')), 'an earlier run is cleared');
    assert.ok(existsSync(join(paths.manifests, 'more', 'details.yaml')));
    assert.deepEqual(keysOf(paths), [
      'Service/details',
      'Service/ratings',
      'Service/reviews',
      'VirtualService/reviews',
    ]);
    assert.deepEqual(readdirSync(userPodsDir(paths)), ['pod-default-debug.yaml']);
    assert.match(readFileSync(join(paths.manifests, 'app.yaml'), 'utf8'), /# the app/, 'comments kept');
    const pod = loadPaths([join(userPodsDir(paths), 'pod-default-debug.yaml')]).resources[0];
    assert.equal(pod.metadata.annotations?.['mizzen.io/manifest-dir'], f.src);
    assert.equal(
      originalDir(paths, f.src, join(paths.manifests, 'more', 'details.yaml')),
      join(f.src, 'more'),
    );
  } finally {
    f.cleanup();
  }
});

test('apply replaces the definition inside a multi-document manifest and writes one file per resource', () => {
  const f = fixture();
  try {
    const paths = runPaths(f.root);
    writeManifests(paths, f.src, manifestFiles(f.src));
    const r = loadPaths([join(f.src, 'networking', 'reviews-v2.yaml')]);
    const out = applyResources(paths, r.resources, () => f.src);
    assert.deepEqual(
      out.map((o) => [o.key, o.action]),
      [['VirtualService/default/reviews', 'configured']],
    );
    assert.equal(out[0].file, join(paths.applied, 'virtualservice-default-reviews.yaml'));
    const applied = readFileSync(out[0].file, 'utf8');
    assert.match(applied, /subset: v2/);
    assert.match(applied, /namespace: default/, 'namespace made explicit');
    const manifest = readFileSync(join(paths.manifests, 'app.yaml'), 'utf8');
    assert.doesNotMatch(manifest, /VirtualService/, 'the old definition is gone from the copied manifest');
    assert.match(manifest, /name: ratings/, 'the other documents stay');
    const all = listResources(paths);
    const vsList = all.resources.filter((s) => s.resource.kind === 'VirtualService');
    assert.equal(vsList.length, 1);
    assert.equal((vsList[0].resource as any).spec.http[0].route[0].destination.subset, 'v2');
    assert.deepEqual(all.diagnostics, [], 'no duplicate warnings');
    assert.deepEqual(
      applyResources(paths, r.resources, () => f.src).map((o) => o.action),
      ['unchanged'],
    );
    const created = applyResources(
      paths,
      loadPaths([join(f.src, 'more', 'details.yaml')]).resources,
      () => f.src,
    );
    assert.equal(created[0].action, 'configured', 'details existed in the manifests');
  } finally {
    f.cleanup();
  }
});

test('apply adds the manifest folder to workloads; a new resource is "created"', () => {
  const f = fixture();
  try {
    const paths = runPaths(f.root);
    writeManifests(paths, f.src, manifestFiles(f.src));
    const text = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, command: [node, web.mjs] }]
`;
    writeFileSync(join(f.src, 'web.yaml'), text);
    const out = applyResources(
      paths,
      loadPaths([join(f.src, 'web.yaml')]).resources,
      () => '/somewhere/else',
    );
    assert.deepEqual(
      out.map((o) => o.action),
      ['created'],
    );
    const dep = loadPaths([out[0].file]).resources[0];
    assert.equal(dep.metadata.annotations?.['mizzen.io/manifest-dir'], '/somewhere/else');
    assert.equal(dep.metadata.namespace, 'shop');
  } finally {
    f.cleanup();
  }
});

test('delete removes a resource from whichever file defines it and reports the missing ones', async () => {
  const f = fixture();
  try {
    const paths = runPaths(f.root);
    writeManifests(paths, f.src, manifestFiles(f.src));
    const createdAt = (name: string) =>
      listResources(paths).resources.find((s) => s.resource.metadata.name === name)!.createdAt;
    const reviewsCreated = createdAt('reviews');
    // A rewrite now would carry a later time.
    await waitFor('the clock to move on', () => Date.now() > reviewsCreated + 1);
    const r = deleteResources(paths, [
      'Service/default/ratings',
      'Service/default/details',
      'Gateway/default/nope',
    ]);
    assert.deepEqual(r.deleted, ['Service/default/ratings', 'Service/default/details']);
    assert.deepEqual(r.missing, ['Gateway/default/nope']);
    assert.equal(createdAt('reviews'), reviewsCreated, 'AGE survives a rewrite of the file it is in');
    assert.ok(!existsSync(join(paths.manifests, 'more', 'details.yaml')), 'an emptied file is removed');
    assert.deepEqual(keysOf(paths), ['Service/reviews', 'VirtualService/reviews']);
    const pod = deleteResources(paths, ['Pod/default/debug']);
    assert.deepEqual(pod.deleted, ['Pod/default/debug']);
    assert.deepEqual(readdirSync(userPodsDir(paths)), []);
  } finally {
    f.cleanup();
  }
});
