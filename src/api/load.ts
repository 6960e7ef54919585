// Loading config: files → documents → validated resources, with every problem positioned.
import type { Diagnostic } from './diagnostic.js';
import { parseYamlText, type RawDocument } from './yaml-load.js';
import { readSources, type SourceText } from './files.js';
import { Checker, child, describe, isPlainObject, rootAt } from './schema.js';
import { objectMeta } from './metadata.js';
import { lookupKind, kindByName, knownKinds } from './kinds/registry.js';
import { setSource, resourceKey, type Resource, type ObjectMeta } from './resource.js';
import { positionsOf, setPositions } from './positions.js';
import { didYouMean } from './suggest.js';
import './kinds/index.js';

/** Valid resources plus every diagnostic (errors for the rejected documents, warnings for the rest). */
export interface LoadResult {
  readonly resources: Resource[];
  readonly diagnostics: Diagnostic[];
}

/** Options for loading. */
export interface LoadOptions {
  /** Namespace for namespaced resources that name none (kubectl's default context: "default"). */
  defaultNamespace?: string;
  /** Reads stdin for the path "-" (tests pass a function). */
  stdin?: () => string;
}

/** Loads `-f` paths: files, directories (recursive) and `-`. */
export function loadPaths(paths: readonly string[], opts: LoadOptions = {}): LoadResult {
  const { sources, diagnostics } = readSources(paths, opts.stdin);
  const r = loadSources(sources, opts);
  return { resources: r.resources, diagnostics: [...diagnostics, ...r.diagnostics] };
}

/** Loads already-read texts. */
export function loadSources(sources: readonly SourceText[], opts: LoadOptions = {}): LoadResult {
  const resources: Resource[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, Resource>();
  for (const s of sources) {
    const r = loadText(s.text, s.file, opts);
    diagnostics.push(...r.diagnostics);
    for (const res of r.resources) {
      const key = resourceKey(res);
      if (seen.has(key)) {
        const pos = sourcePos(res);
        diagnostics.push({
          severity: 'warning',
          ...pos,
          path: 'metadata.name',
          message: `${res.kind} ${res.metadata.namespace ?? ''}/${res.metadata.name} is defined more than once; the last definition wins`,
          code: 'MZ-DUPLICATE',
        });
        resources.splice(resources.indexOf(seen.get(key)!), 1);
      }
      seen.set(key, res);
      resources.push(res);
    }
  }
  return { resources, diagnostics };
}

function sourcePos(r: Resource): { file: string; line: number; col: number } {
  const p = positionsOf(r)?.self;
  return p ? { file: p.file, line: p.line, col: p.col } : { file: '<unknown>', line: 1, col: 1 };
}

/** Loads one file's text (YAML stream or JSON). */
export function loadText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const parsed = parseYamlText(text, file);
  const resources: Resource[] = [];
  const diagnostics = [...parsed.diagnostics];
  for (const doc of parsed.docs) {
    for (const item of expandList(doc, diagnostics)) {
      const r = validateDocument(item, opts);
      diagnostics.push(...r.diagnostics);
      if (r.resource) resources.push(r.resource);
    }
  }
  return { resources, diagnostics };
}

/** A Kubernetes `List` becomes its items; anything else is itself. */
function expandList(doc: RawDocument, diagnostics: Diagnostic[]): RawDocument[] {
  const v = doc.value;
  if (!isPlainObject(v) || v.kind !== 'List' || !('items' in v)) return [doc];
  const items = v.items;
  if (!Array.isArray(items)) {
    const c = new Checker(doc.pos);
    c.error(child(rootAt(v), v, 'items'), `must be a list of resources, got ${describe(items)}`);
    diagnostics.push(...c.diagnostics);
    return [];
  }
  return items.map((value, i) => {
    const p = positionsOf(items)?.values.get(i) ?? doc.pos;
    return { file: doc.file, index: doc.index, pos: p, value };
  });
}

/** Top-level keys that mark an Envoy bootstrap file (which may sit beside manifests, e.g. in examples/). */
const ENVOY_BOOTSTRAP_KEYS = [
  'static_resources',
  'staticResources',
  'dynamic_resources',
  'dynamicResources',
  'admin',
  'node',
];

/** Validates one parsed document into a resource; the resource is absent when it has errors. */
export function validateDocument(
  doc: RawDocument,
  opts: LoadOptions = {},
): { resource?: Resource; diagnostics: Diagnostic[] } {
  const c = new Checker(doc.pos);
  const v = doc.value;
  const root = rootAt(isPlainObject(v) ? v : {});
  if (!isPlainObject(v)) {
    c.error(root, `a document must be an object with apiVersion, kind and metadata, got ${describe(v)}`);
    return { diagnostics: c.diagnostics };
  }
  const apiVersion = v.apiVersion;
  const kind = v.kind;
  if (apiVersion === undefined && kind === undefined && ENVOY_BOOTSTRAP_KEYS.some((k) => k in v)) {
    c.report(
      'warning',
      root,
      'this is an Envoy bootstrap, not a Kubernetes or Istio resource: skipped (run it with `mizzen proxy --bootstrap FILE`)',
      'MZ-NOT-A-RESOURCE',
    );
    return { diagnostics: c.diagnostics };
  }
  if (typeof kind !== 'string' || kind === '') {
    c.error(child(root, v, 'kind'), 'is required: the resource kind, e.g. VirtualService');
    return { diagnostics: c.diagnostics };
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    const d = kindByName(kind);
    c.error(
      child(root, v, 'apiVersion'),
      `is required${d ? `, e.g. ${d.apiVersions[d.apiVersions.length - 1]}` : ''}`,
    );
    return { diagnostics: c.diagnostics };
  }
  const def = lookupKind(apiVersion, kind);
  if (!def) {
    const byName = kindByName(kind);
    if (byName) {
      c.error(
        child(root, v, 'apiVersion'),
        `${kind} is served as ${byName.apiVersions.join(', ')}, got ${JSON.stringify(apiVersion)}`,
      );
    } else {
      c.error(
        child(root, v, 'kind'),
        `unknown kind ${JSON.stringify(kind)}${didYouMean(kind, knownKinds()) || `; Mizzen reads ${knownKinds().join(', ')}`}`,
        'MZ-UNKNOWN-KIND',
      );
    }
    return { diagnostics: c.diagnostics };
  }
  const depr = def.deprecatedApiVersions?.[apiVersion];
  if (depr) c.warn(child(root, v, 'apiVersion'), `${apiVersion} is deprecated: ${depr}`, 'MZ-DEPRECATED');
  const metaRaw = v.metadata;
  let metadata: ObjectMeta | undefined;
  if (metaRaw === undefined) c.error(child(root, v, 'metadata'), 'is required: at least metadata.name');
  else metadata = objectMeta()(metaRaw, child(root, v, 'metadata'), c);
  if (metadata && !metadata.name)
    c.error({ path: 'metadata.name', holder: v, key: 'metadata' }, 'is required');
  if (metadata) {
    if (def.namespaced) metadata.namespace ??= opts.defaultNamespace ?? 'default';
    else if (metadata.namespace)
      c.warn(child(root, v, 'metadata'), `${kind} is cluster-scoped; metadata.namespace is ignored`);
    c.resource = `${kind} ${metadata.namespace ? metadata.namespace + '/' : ''}${metadata.name}`;
  }
  const body = def.body(v, root, c);
  if (c.failedSince(0) || !body || !metadata) return { diagnostics: c.diagnostics };
  const resource: Resource = { ...body, apiVersion, kind, metadata };
  const pos = positionsOf(v);
  if (pos) setPositions(resource, pos);
  setSource(resource, { file: doc.file, index: doc.index, line: doc.pos.line, col: doc.pos.col });
  return { resource, diagnostics: c.diagnostics };
}
