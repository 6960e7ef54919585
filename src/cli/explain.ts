// `mizzen x explain SOURCE URL`: asks the control plane's /debug/explain and prints the answer.
import { UsageError } from './command.js';
import { httpGet } from '../local/readiness.js';
import { findPods, liveState, type RunPaths } from '../local/run-state.js';
import { formatExplanation } from '../pilot/explain/format.js';
import type { Explanation } from '../pilot/explain/explain.js';

/** Options of one explain call. */
export interface ExplainOptions {
  readonly method: string;
  /** `name: value` strings, as curl's -H. */
  readonly headers: readonly string[];
  readonly json: boolean;
  /** The control plane's debug address; default the local mesh's. */
  readonly server?: string;
}

/** The /debug/explain query for SOURCE's proxy and URL (`http://host:port/path` or `host:port/path`). */
export function explainQueryString(
  proxyID: string,
  url: string,
  o: Pick<ExplainOptions, 'method' | 'headers'>,
): string {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  } catch {
    throw new UsageError(`URL ${url} is not a URL (e.g. http://reviews:9080/reviews/0)`);
  }
  const q = new URLSearchParams({
    proxyID,
    method: o.method,
    host: u.host,
    port: u.port || (u.protocol === 'https:' ? '443' : '80'),
    path: u.pathname + u.search,
  });
  for (const h of o.headers) {
    if (h.indexOf(':') <= 0) throw new UsageError(`header "${h}" must be 'name: value'`);
    q.append('header', h);
  }
  return q.toString();
}

/** The proxy id fragment of SOURCE in the local mesh: its first pod's `name.namespace`, or the name itself. */
function proxyIdOf(paths: RunPaths, source: string): string {
  const live = liveState(paths);
  if ('error' in live) return source;
  const dot = source.indexOf('.');
  const pods = findPods(
    live.state,
    dot > 0 ? source.slice(0, dot) : source,
    dot > 0 ? source.slice(dot + 1) : undefined,
  );
  return pods.length > 0 ? `${pods[0].name}.${pods[0].namespace}` : source;
}

/** Runs the explain; returns the exit code. */
export async function explainCommand(
  paths: RunPaths,
  source: string,
  url: string,
  o: ExplainOptions,
): Promise<number> {
  let server = o.server;
  if (!server) {
    const live = liveState(paths);
    if ('error' in live) {
      console.error(`mizzen x explain: ${live.error}; or name the control plane with --server`);
      return 1;
    }
    server = live.state.debugAddress;
  }
  const query = explainQueryString(proxyIdOf(paths, source), url, o);
  const r = await httpGet(`http://${server}/debug/explain?${query}`, 10_000);
  if (r.status === 0) {
    console.error(`mizzen x explain: the control plane at ${server} does not answer`);
    return 1;
  }
  const body = JSON.parse(r.body) as Explanation | { error: string };
  if (r.status !== 200 || !('proxy' in body)) {
    console.error(`mizzen x explain: ${'error' in body ? body.error : `HTTP ${r.status}`}`);
    return 1;
  }
  console.log(o.json ? JSON.stringify(body, null, 2) : formatExplanation(body));
  return body.error ? 1 : 0;
}
