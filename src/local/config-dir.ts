// The run directory's config as a store: copy manifests in, apply/delete one resource at a time, list.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments, isMap, isSeq, type Document } from 'yaml';
import { loadPaths } from '../api/load.js';
import { kindByName } from '../api/kinds/registry.js';
import { resourceKey, sourceOf, type Resource } from '../api/resource.js';
import type { Diagnostic } from '../api/diagnostic.js';
import { MANIFEST_DIR_ANNOTATION } from './manifest-to-pods.js';
import type { RunPaths } from './run-state.js';

const YAML_EXT = new Set(['.yaml', '.yml', '.json']);

/** Folder of user-defined Pods: kept out of config/ because the generated Pod (with status) replaces them there. */
export function userPodsDir(paths: RunPaths): string {
  return join(paths.root, 'workloads');
}

/** The folders holding what the user asked for (manifests, applied resources, user Pods). */
export function desiredDirs(paths: RunPaths): string[] {
  return [paths.manifests, paths.applied, userPodsDir(paths)];
}

/**
 * YAML/JSON files in a folder and its subfolders (hidden entries skipped), sorted; `skipDir` prunes
 * folders by name and absolute path.
 */
export function yamlFiles(
  dir: string,
  skipDir: (name: string, path: string) => boolean = () => false,
): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (!skipDir(name, p)) out.push(...yamlFiles(p, skipDir));
    } else if (st.isFile() && YAML_EXT.has(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}

/**
 * The files `up PATH` loads: PATH itself, or every YAML file under it except in folders named
 * `networking/` (they hold the step-by-step task configs that are applied one at a time) and the
 * run directory, should it live inside PATH.
 */
export function manifestFiles(path: string, runDir?: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const skip = runDir ? resolve(runDir) : undefined;
  return yamlFiles(path, (name, p) => name === 'networking' || resolve(p) === skip);
}

/** A document's identity, `kind/namespace/name` as resourceKey makes it. */
function docKey(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, any>;
  if (typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') return undefined;
  const namespaced = kindByName(o.kind)?.namespaced ?? true;
  const ns = namespaced ? String(o.metadata.namespace ?? 'default') : '';
  return `${o.kind}/${ns}/${o.metadata.name}`;
}

/** Keeps the documents (and List items) for which `keep` holds; returns the removed keys. */
function filterDocs(
  docs: Document[],
  keep: (key: string | undefined) => boolean,
): { docs: Document[]; removed: string[] } {
  const removed: string[] = [];
  const out: Document[] = [];
  for (const d of docs) {
    const v = d.toJS() as unknown;
    if (v === null || v === undefined) continue;
    const o = v as Record<string, any>;
    if (o.kind === 'List' && isMap(d.contents)) {
      const items = d.get('items');
      if (isSeq(items)) {
        for (let i = items.items.length - 1; i >= 0; i--) {
          const k = docKey((o.items as unknown[])[i]);
          if (!keep(k)) {
            removed.push(k!);
            items.items.splice(i, 1);
          }
        }
      }
      out.push(d);
      continue;
    }
    const k = docKey(v);
    if (keep(k)) out.push(d);
    else removed.push(k!);
  }
  return { docs: out, removed };
}

function renderDocs(docs: Document[]): string {
  return docs
    .map((d, i) => {
      const s = String(d);
      return i === 0 || s.startsWith('---') ? s : `---\n${s}`;
    })
    .join('');
}

/** Rewrites `file` without the documents whose key is in `keys`; deletes it when nothing is left. */
function removeFromFile(file: string, keys: ReadonlySet<string>): string[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(docs)) return [];
  const { docs: kept, removed } = filterDocs(docs, (k) => !k || !keys.has(k));
  if (removed.length === 0) return [];
  if (kept.length === 0) rmSync(file);
  else writeFileSync(file, renderDocs(kept));
  return removed;
}

/** Removes every definition of these resources from the desired-config folders; returns the keys found. */
export function removeDefinitions(paths: RunPaths, keys: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  for (const dir of desiredDirs(paths))
    for (const f of yamlFiles(dir)) for (const k of removeFromFile(f, keys)) found.add(k);
  return found;
}

/** When each resource was first written (ms since epoch, by key): kubectl's creationTimestamp, for AGE. */
function createdFile(paths: RunPaths): string {
  return join(paths.root, 'created.json');
}

function readCreated(paths: RunPaths): Record<string, number> {
  try {
    return JSON.parse(readFileSync(createdFile(paths), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function writeCreated(paths: RunPaths, created: Record<string, number>): void {
  writeFileSync(createdFile(paths), JSON.stringify(created) + '\n');
}

/**
 * Copies the manifests `up` was given into config/manifests, keeping their paths relative to `base`
 * (user Pods go to workloads/ instead), after clearing what an earlier run left.
 */
export function writeManifests(paths: RunPaths, base: string, files: readonly string[]): void {
  for (const d of [paths.config, userPodsDir(paths)]) rmSync(d, { recursive: true, force: true });
  for (const d of [paths.manifests, paths.pods, paths.applied, userPodsDir(paths)])
    mkdirSync(d, { recursive: true });
  const created: Record<string, number> = {};
  const now = Date.now();
  for (const f of files) {
    const rel = relative(base, f);
    const target = join(paths.manifests, rel.startsWith('..') || isAbsolute(rel) ? basename(f) : rel);
    mkdirSync(dirname(target), { recursive: true });
    const text = readFileSync(f, 'utf8');
    const docs = parseAllDocuments(text);
    if (Array.isArray(docs))
      for (const d of docs) {
        const k = docKey(d.toJS());
        if (k) created[k] = now;
      }
    if (!Array.isArray(docs) || !docs.some((d) => d.toJS()?.kind === 'Pod')) {
      copyFileSync(f, target);
      continue;
    }
    for (const d of docs) {
      const k = docKey(d.toJS());
      if (!k?.startsWith('Pod/')) continue;
      d.setIn(['metadata', 'annotations', MANIFEST_DIR_ANNOTATION], dirname(resolve(f)));
      writeFileSync(join(userPodsDir(paths), appliedFileName(k)), String(d).replace(/^---\n/, ''));
    }
    const rest = filterDocs(docs, (k) => !k?.startsWith('Pod/'));
    if (rest.docs.length) writeFileSync(target, renderDocs(rest.docs));
  }
  writeCreated(paths, created);
}

/** The folder a copied manifest came from, given the folder `up` was pointed at. */
export function originalDir(paths: RunPaths, base: string, copiedFile: string): string | undefined {
  const rel = relative(paths.manifests, copiedFile);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return dirname(join(base, rel));
}

/** `virtualservice-default-reviews.yaml` for `VirtualService/default/reviews`. */
export function appliedFileName(key: string): string {
  const [kind, ns, name] = key.split('/');
  return `${[kind.toLowerCase(), ns, name].filter(Boolean).join('-')}.yaml`;
}

/** What `apply` did to one resource. */
export interface ApplyOutcome {
  readonly key: string;
  /** kubectl's words: created, configured, unchanged. */
  readonly action: 'created' | 'configured' | 'unchanged';
  readonly file: string;
}

/**
 * Writes each resource to `config/applied/<kind>-<ns>-<name>.yaml` from its source document (comments
 * kept), with its namespace made explicit and, for workloads, the folder its commands start in; any
 * earlier definition of the same resource elsewhere is removed first.
 */
export function applyResources(
  paths: RunPaths,
  resources: readonly Resource[],
  manifestDir: (r: Resource) => string,
): ApplyOutcome[] {
  for (const d of [paths.applied, userPodsDir(paths)]) mkdirSync(d, { recursive: true });
  const created = readCreated(paths);
  const out: ApplyOutcome[] = [];
  for (const r of resources) {
    const key = resourceKey(r);
    const doc = sourceDocument(r);
    if (r.metadata.namespace && doc.getIn(['metadata', 'namespace']) === undefined)
      doc.setIn(['metadata', 'namespace'], r.metadata.namespace);
    if (r.kind === 'Deployment' || r.kind === 'Pod')
      doc.setIn(['metadata', 'annotations', MANIFEST_DIR_ANNOTATION], manifestDir(r));
    const text = String(doc).replace(/^---\n/, '');
    const dir = r.kind === 'Pod' ? userPodsDir(paths) : paths.applied;
    const file = join(dir, appliedFileName(key));
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (before === text) {
      out.push({ key, action: 'unchanged', file });
      continue;
    }
    const found = removeDefinitions(paths, new Set([key]));
    writeFileSync(file, text);
    created[key] ??= Date.now();
    out.push({ key, action: found.size > 0 || before !== undefined ? 'configured' : 'created', file });
  }
  writeCreated(paths, created);
  return out;
}

/** The YAML document a loaded resource came from (re-read from its file), or one built from the object. */
function sourceDocument(r: Resource): Document {
  const src = sourceOf(r);
  if (src && src.file !== '-' && existsSync(src.file)) {
    const docs = parseAllDocuments(readFileSync(src.file, 'utf8'));
    const d = Array.isArray(docs) ? docs[src.index] : undefined;
    if (d && docKey(d.toJS()) === resourceKey(r)) return d;
  }
  const plain = JSON.parse(JSON.stringify(r)) as unknown;
  return parseAllDocuments(JSON.stringify(plain))[0];
}

/** Deletes these resources from the config; returns which keys existed. */
export function deleteResources(
  paths: RunPaths,
  keys: readonly string[],
): { deleted: string[]; missing: string[] } {
  const found = removeDefinitions(paths, new Set(keys));
  const created = readCreated(paths);
  for (const k of found) delete created[k];
  writeCreated(paths, created);
  return { deleted: keys.filter((k) => found.has(k)), missing: keys.filter((k) => !found.has(k)) };
}

/** A resource in the config with the file that defines it and when it was created (ms since epoch). */
export interface StoredResource {
  readonly resource: Resource;
  readonly file: string;
  /** First written by `up` or `apply`; the file's modification time when unknown. */
  readonly createdAt: number;
}

/** Every resource the mesh runs with: manifests, applied resources and generated Pods. */
export function listResources(paths: RunPaths): { resources: StoredResource[]; diagnostics: Diagnostic[] } {
  const files = [paths.manifests, paths.applied, paths.pods].flatMap((d) => yamlFiles(d));
  if (files.length === 0) return { resources: [], diagnostics: [] };
  const r = loadPaths(files);
  const created = readCreated(paths);
  const mtimes = new Map<string, number>();
  const resources = r.resources.map((res) => {
    const file = sourceOf(res)?.file ?? '';
    if (!mtimes.has(file)) mtimes.set(file, existsSync(file) ? statSync(file).mtimeMs : Date.now());
    return { resource: res, file, createdAt: created[resourceKey(res)] ?? mtimes.get(file)! };
  });
  return { resources, diagnostics: r.diagnostics };
}
