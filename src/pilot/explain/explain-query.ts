// The /debug/explain query string (method, host, port, path, repeated header=name:value) → an Explanation.
import type { Generator, ProxyRef } from '../generator.js';
import type { PushContext } from '../push-context.js';
import { explain, type Explanation, type ExplainOptions, type ExplainRequest } from './explain.js';

/** Parses the query and explains it; `{ error }` for a malformed query. */
export function explainQuery(
  gen: Generator,
  push: PushContext,
  ref: ProxyRef,
  q: URLSearchParams,
  opts: ExplainOptions = {},
): Explanation | { error: string } {
  const req = requestOf(q);
  return 'error' in req ? req : explain(gen, push, ref, req, opts);
}

/** The request a query describes, or what is wrong with it. */
export function requestOf(q: URLSearchParams): ExplainRequest | { error: string } {
  const host = q.get('host') ?? '';
  if (!host) return { error: 'host is required, e.g. host=reviews:9080' };
  const portText = q.get('port');
  const port = portText ? Number(portText) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    return { error: `port ${portText} is not a port number` };
  const path = q.get('path') || '/';
  if (!path.startsWith('/')) return { error: `path ${path} must start with /` };
  const headers: Record<string, string> = {};
  for (const h of q.getAll('header')) {
    const i = h.indexOf(':');
    if (i <= 0) return { error: `header "${h}" must be name:value` };
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return { method: (q.get('method') || 'GET').toUpperCase(), host, ...(port ? { port } : {}), path, headers };
}
