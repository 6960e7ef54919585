// The HTTP authorization service client (Envoy's raw HTTP ext_authz): the client's method and
// path_prefix + path, Host, the allowed headers and the optional buffered body go to the authorizer;
// 200 allows (allowed_upstream_headers copied onto the request), any other status denies with the
// authorizer's status, body and client headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { ActiveRequest } from '../../active-request.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { callCluster, CallError } from './cluster-call.js';
import type { CheckResult, HeaderEdit } from './check-result.js';
import type { ExtAuthzConfig, HeaderList } from './ext-authz-config.js';

/** Request headers always sent (Envoy adds Host, Method, Path, Content-Length and Authorization). */
const ALWAYS_SENT = new Set(['authorization']);
/** Response headers never copied to the client on deny when no list is configured. */
const NOT_TO_CLIENT = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
  'server',
]);
/** Response headers always copied to the client on deny when a list is configured. */
const ALWAYS_TO_CLIENT = new Set(['www-authenticate', 'location']);
/** Authorizer replies are buffered whole; larger ones are a check error. */
const MAX_RESPONSE_BYTES = 1 << 20;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/** The check request headers. */
function checkHeaders(c: ExtAuthzConfig, req: ActiveRequest): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'content-length' || k === 'transfer-encoding') continue;
    if (ALWAYS_SENT.has(k) || (c.allowedHeaders !== null && c.allowedHeaders.matches(k))) out[k] = v;
  }
  for (const [k, v] of c.headersToAdd) out[k] = v;
  return out;
}

function pick(h: IncomingHttpHeaders, list: HeaderList | null, skip: (k: string) => boolean): HeaderEdit[] {
  const out: HeaderEdit[] = [];
  if (list === null) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || skip(k) || !list.matches(k)) continue;
    out.push([k, first(v)!, false]);
  }
  return out;
}

function clientHeadersOnDeny(c: ExtAuthzConfig, h: IncomingHttpHeaders): HeaderEdit[] {
  const out: HeaderEdit[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k.startsWith(':') || NOT_TO_CLIENT.has(k)) continue;
    if (c.allowedClientHeaders !== null && !ALWAYS_TO_CLIENT.has(k) && !c.allowedClientHeaders.matches(k))
      continue;
    out.push([k, first(v)!, false]);
  }
  return out;
}

/** Asks the HTTP authorization service about `req` (with `body` when configured). */
export async function httpCheck(
  c: ExtAuthzConfig,
  req: ActiveRequest,
  body: Buffer | null,
): Promise<CheckResult> {
  const res = await callCluster(req.snapshot.cluster(c.cluster), {
    method: req.method,
    path: c.pathPrefix + req.path,
    authority: req.authority,
    headers: checkHeaders(c, req),
    body: body ?? Buffer.alloc(0),
    timeoutMs: c.timeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    requireH2: false,
  });
  if (res instanceof CallError) return { kind: 'error', reason: res.message };
  const hopByHop = (k: string): boolean => k.startsWith(':') || NOT_TO_CLIENT.has(k);
  if (res.status === 200)
    return {
      kind: 'ok',
      upstream: pick(res.headers, c.allowedUpstreamHeaders, hopByHop),
      remove: [],
      downstream: pick(res.headers, c.allowedClientHeadersOnSuccess, hopByHop),
    };
  return {
    kind: 'denied',
    status: res.status,
    headers: clientHeadersOnDeny(c, res.headers),
    body: res.body.toString('utf8'),
  };
}
