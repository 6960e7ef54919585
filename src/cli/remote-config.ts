// The client of a control plane's config API (`mizzen get|apply|delete --server URL`).
import type { Resource } from '../api/resource.js';
import type { SourceText } from '../api/files.js';
import type { ResourceRef } from '../config/writable-store.js';
import { CONFIG_API_PATH } from '../pilot/config-api.js';

/** One outcome of an apply or delete, as the server reports it. */
export interface RemoteOutcome extends ResourceRef {
  readonly apiVersion?: string;
  readonly action: string;
}

/** A positioned diagnostic as the server reports it (`text` is `file:line:col: path: message`). */
export interface RemoteDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly text: string;
}

/** `http://host:port` from `host:port` or a URL; the config API's URL with `query`. */
export function configApiUrl(server: string, query = ''): string {
  const base = /^https?:\/\//.test(server) ? server.replace(/\/+$/, '') : `http://${server}`;
  return `${base}${CONFIG_API_PATH}${query}`;
}

async function call(server: string, init: RequestInit, query = ''): Promise<{ status: number; body: any }> {
  const url = configApiUrl(server, query);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(
      `cannot reach the control plane at ${url} (${cause}); is \`mizzen server\` running there? (--server takes its --debug-address)`,
    );
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(
      `${url} answered ${res.status} with something that is not the config API: ${text.slice(0, 200)}`,
    );
  }
}

/** Every served resource of `kinds` (all when empty), optionally in one namespace. */
export async function listRemote(
  server: string,
  kinds: readonly string[],
  namespace: string | null,
): Promise<Resource[]> {
  const q = new URLSearchParams();
  if (kinds.length) q.set('kind', kinds.join(','));
  if (namespace !== null) q.set('namespace', namespace);
  const r = await call(server, { method: 'GET' }, `?${q.toString()}`);
  if (r.status !== 200) throw new Error(r.body?.error ?? `HTTP ${r.status}`);
  return r.body.items as Resource[];
}

/** Sends files for the server to validate and apply; diagnostics come back positioned in them. */
export async function applyRemote(
  server: string,
  files: readonly SourceText[],
  namespace: string | undefined,
): Promise<{ ok: boolean; error?: string; outcomes: RemoteOutcome[]; diagnostics: RemoteDiagnostic[] }> {
  const r = await call(server, {
    method: 'POST',
    body: JSON.stringify({ files: files.map((f) => ({ file: f.file, text: f.text })), namespace }),
  });
  return {
    ok: r.status === 200,
    error: r.status === 200 ? undefined : (r.body?.error ?? `HTTP ${r.status}`),
    outcomes: r.body?.outcomes ?? [],
    diagnostics: r.body?.diagnostics ?? [],
  };
}

/** Deletes resources by ref. */
export async function deleteRemote(server: string, refs: readonly ResourceRef[]): Promise<RemoteOutcome[]> {
  const r = await call(server, { method: 'DELETE', body: JSON.stringify({ refs }) });
  if (r.status !== 200) throw new Error(r.body?.error ?? `HTTP ${r.status}`);
  return r.body.outcomes as RemoteOutcome[];
}
