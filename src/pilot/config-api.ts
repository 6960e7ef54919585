// The control plane's config API on its debug port: list (any store), apply and delete (writable stores),
// what `mizzen get|apply|delete --server URL` call. Validation is the same as for files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadSources } from '../api/load.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../api/diagnostic.js';
import type { ConfigStore } from '../config/store.js';
import { isWritable, type ResourceRef } from '../config/writable-store.js';
import type { HttpRoutes } from './debug-http.js';

/** The path of the config API. */
export const CONFIG_API_PATH = '/apis/config.mizzen.io/v1/resources';

/** Largest request body accepted, bytes. */
const MAX_BODY = 16 * 1024 * 1024;

/** Body of an apply request: the files as the client read them, so diagnostics name them. */
export interface ApplyRequest {
  readonly files: readonly { readonly file: string; readonly text: string }[];
  /** Namespace for resources that name none (default "default"). */
  readonly namespace?: string;
}

/** Body of a delete request. */
export interface DeleteRequest {
  readonly refs: readonly ResourceRef[];
}

/** The config API as extra routes of the debug server. */
export function configApiRoutes(store: ConfigStore, log: (line: string) => void): HttpRoutes {
  return (req, res, url) => {
    if (url.pathname !== CONFIG_API_PATH) return false;
    switch (req.method) {
      case 'GET':
        list(store, res, url);
        return true;
      case 'POST':
      case 'DELETE':
        readJson(req, res, (body) => {
          void (req.method === 'POST' ? apply(store, body) : remove(store, body)).then(
            ([status, out]) => send(res, status, out),
            (err: Error) => {
              log(`config api: ${req.method} failed: ${err.message}`);
              send(res, 503, { error: `the config store failed: ${err.message}` });
            },
          );
        });
        return true;
      default:
        send(res, 405, { error: `${req.method} is not supported; use GET, POST or DELETE` });
        return true;
    }
  };
}

function list(store: ConfigStore, res: ServerResponse, url: URL): void {
  const kinds = url.searchParams.get('kind')?.split(',').filter(Boolean) ?? [];
  const ns = url.searchParams.get('namespace');
  const snap = store.snapshot();
  const items = (kinds.length ? kinds.flatMap((k) => snap.byKind(k)) : snap.resources).filter(
    (r) => ns === null || (r.metadata.namespace ?? '') === ns || r.metadata.namespace === undefined,
  );
  send(res, 200, { apiVersion: 'v1', kind: 'List', version: snap.version, items });
}

async function apply(store: ConfigStore, body: unknown): Promise<[number, unknown]> {
  if (!isWritable(store)) return notWritable(store);
  if (!isApplyRequest(body))
    return [400, { error: 'expected {"files": [{"file": NAME, "text": YAML}], "namespace"?: NS}' }];
  const r = loadSources(body.files, { defaultNamespace: body.namespace || 'default' });
  const diagnostics = sortDiagnostics(r.diagnostics).map((d) => ({ ...d, text: formatDiagnostic(d) }));
  if (hasErrors(r.diagnostics)) return [422, { error: 'nothing was applied', diagnostics }];
  if (r.resources.length === 0) return [400, { error: 'no resources found', diagnostics }];
  const outcomes = await store.apply(r.resources);
  const apiVersions = new Map(
    r.resources.map((x) => [`${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`, x.apiVersion]),
  );
  return [
    200,
    {
      diagnostics,
      outcomes: outcomes.map((o) => ({
        ...o.ref,
        apiVersion: apiVersions.get(`${o.ref.kind}/${o.ref.namespace}/${o.ref.name}`),
        action: o.action,
      })),
    },
  ];
}

async function remove(store: ConfigStore, body: unknown): Promise<[number, unknown]> {
  if (!isWritable(store)) return notWritable(store);
  if (!isDeleteRequest(body)) return [400, { error: 'expected {"refs": [{"kind", "namespace", "name"}]}' }];
  const outcomes = await store.delete(
    body.refs.map((r) => ({ kind: r.kind, namespace: r.namespace ?? '', name: r.name })),
  );
  return [200, { outcomes: outcomes.map((o) => ({ ...o.ref, action: o.action })) }];
}

/** A JSON body of the apply shape: `files` of `{ file, text }` strings. */
function isApplyRequest(body: unknown): body is ApplyRequest {
  const files = (body as { files?: unknown } | null)?.files;
  return (
    Array.isArray(files) &&
    files.every((f: unknown) => {
      const e = f as { file?: unknown; text?: unknown } | null;
      return typeof e?.file === 'string' && typeof e.text === 'string';
    })
  );
}

/** A JSON body of the delete shape: `refs` with string `kind` and `name`. */
function isDeleteRequest(body: unknown): body is DeleteRequest {
  const refs = (body as { refs?: unknown } | null)?.refs;
  return (
    Array.isArray(refs) &&
    refs.every((r: unknown) => {
      const e = r as { kind?: unknown; name?: unknown } | null;
      return typeof e?.kind === 'string' && typeof e.name === 'string';
    })
  );
}

function notWritable(store: ConfigStore): [number, unknown] {
  const kube = (store as { description?: unknown }).description;
  return [
    405,
    {
      error:
        typeof kube === 'string' && kube.startsWith('kubernetes ')
          ? `this server reads config from the Kubernetes API (${kube.slice('kubernetes '.length)}), which it does not write: use kubectl apply`
          : 'this server serves a config directory, which it does not write: edit the files, or use `mizzen apply` without --server for a local mesh (`mizzen server --etcd` accepts writes)',
    },
  ];
}

function readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      send(res, 413, { error: `request body over ${MAX_BODY} bytes` });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (res.headersSent) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      send(res, 400, { error: `request body is not JSON: ${(err as Error).message}` });
      return;
    }
    then(body);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}
