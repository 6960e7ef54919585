// The gRPC authorization service client: envoy.service.auth.v3.Authorization/Check over the cluster's
// HTTP/2 pool, one length-prefixed CheckRequest (the request's attributes as Envoy fills them), one
// CheckResponse back; status OK allows (ok_response header edits), anything else denies
// (denied_response status, headers, body; 403 by default); a non-OK grpc-status is a check error.
import { decodeMessage, encodeMessage } from '../../../../xds/protos.js';
import { splitAddress } from '../../../rbac/rbac-input.js';
import type { ActiveRequest } from '../../active-request.js';
import { callCluster, CallError } from './cluster-call.js';
import type { CheckResult, HeaderEdit } from './check-result.js';
import { httpStatusOf, type ExtAuthzConfig } from './ext-authz-config.js';
import type {
  envoy_config_core_v3_HeaderValueOption as HeaderValueOption,
  envoy_service_auth_v3_CheckResponse as CheckResponse,
} from '../../../../xds/envoy-types.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const CHECK_REQUEST = 'envoy.service.auth.v3.CheckRequest';
const CHECK_RESPONSE = 'envoy.service.auth.v3.CheckResponse';
/** CheckResponses are small; a larger reply is a check error. */
const MAX_RESPONSE_BYTES = 1 << 20;

function socketAddress(addr: string): Record<string, unknown> {
  const { ip, port } = splitAddress(addr);
  return { socketAddress: { address: ip, portValue: port } };
}

/** The CheckRequest of `req` in canonical form. */
export function checkRequest(
  c: ExtAuthzConfig,
  req: ActiveRequest,
  body: Buffer | null,
): Record<string, unknown> {
  const headers: Record<string, string> = {
    ':method': req.method,
    ':path': req.path,
    ':authority': req.authority,
    ':scheme': req.scheme,
  };
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (c.allowedHeaders !== null && !c.allowedHeaders.matches(k)) continue;
    headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  const q = req.path.indexOf('?');
  const now = Date.now();
  const http: Record<string, unknown> = {
    method: req.method,
    headers,
    path: req.path,
    host: req.authority,
    scheme: req.scheme,
    query: q >= 0 ? req.path.slice(q + 1) : '',
    protocol: req.protocol,
    size: body !== null ? body.length : Number(req.headers['content-length'] ?? -1),
  };
  const id = req.headers['x-request-id'];
  if (typeof id === 'string') http.id = id;
  if (body !== null && body.length > 0) {
    if (c.withRequestBody?.packAsBytes) http.rawBody = body;
    else http.body = body.toString('utf8');
  }
  const source: Record<string, unknown> = { address: socketAddress(req.conn.remoteAddress) };
  if (req.conn.peerPrincipal) source.principal = req.conn.peerPrincipal;
  return {
    attributes: {
      source,
      destination: { address: socketAddress(req.conn.localAddress) },
      request: { time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 }, http },
    },
  };
}

/** Frames one gRPC message (uncompressed). */
export function frame(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

function edits(list: readonly HeaderValueOption[] | undefined): HeaderEdit[] {
  const out: HeaderEdit[] = [];
  for (const o of list ?? []) {
    const key = String(o?.header?.key ?? '').toLowerCase();
    if (key === '') continue;
    // append: BoolValue (default true in the v3 API); append_action APPEND_IF_EXISTS_OR_ADD is the default.
    const append =
      o.append !== undefined
        ? o.append?.value === true
        : (o.appendAction ?? 'APPEND_IF_EXISTS_OR_ADD') === 'APPEND_IF_EXISTS_OR_ADD';
    out.push([key, String(o.header?.value ?? ''), append]);
  }
  return out;
}

/** Turns a CheckResponse (canonical) into a result. */
export function checkResult(r: CheckResponse | undefined): CheckResult {
  const code = Number(r?.status?.code ?? 0);
  if (code === 0) {
    const ok = r?.okResponse ?? {};
    return {
      kind: 'ok',
      upstream: edits(ok.headers),
      remove: (ok.headersToRemove ?? []).map((h) => String(h).toLowerCase()),
      downstream: edits(ok.responseHeadersToAdd),
    };
  }
  const d = r?.deniedResponse ?? {};
  return {
    kind: 'denied',
    status: httpStatusOf(d.status, 403),
    headers: edits(d.headers),
    body: String(d.body ?? ''),
  };
}

/** Asks the gRPC authorization service about `req`. */
export async function grpcCheck(
  c: ExtAuthzConfig,
  req: ActiveRequest,
  body: Buffer | null,
): Promise<CheckResult> {
  let payload: Buffer;
  try {
    payload = frame(encodeMessage(CHECK_REQUEST, checkRequest(c, req, body)));
  } catch (e) {
    return { kind: 'error', reason: `cannot encode CheckRequest: ${(e as Error).message}` };
  }
  const res = await callCluster(req.snapshot.cluster(c.cluster), {
    method: 'POST',
    path: CHECK_PATH,
    authority: c.authority,
    headers: { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${c.timeoutMs}m` },
    body: payload,
    timeoutMs: c.timeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    requireH2: true,
  });
  if (res instanceof CallError) return { kind: 'error', reason: res.message };
  const grpcStatus = res.trailers['grpc-status'] ?? res.headers['grpc-status'];
  if (res.status !== 200) return { kind: 'error', reason: `HTTP ${res.status} from the gRPC authorizer` };
  if (grpcStatus !== '0') {
    const msg = res.trailers['grpc-message'] ?? res.headers['grpc-message'] ?? '';
    return { kind: 'error', reason: `grpc-status ${String(grpcStatus)} ${String(msg)}`.trim() };
  }
  const b = res.body;
  if (b.length < 5 || b[0] !== 0 || b.readUInt32BE(1) !== b.length - 5)
    return { kind: 'error', reason: 'malformed gRPC response (one uncompressed message expected)' };
  try {
    return checkResult(decodeMessage(CHECK_RESPONSE, b.subarray(5)));
  } catch (e) {
    return { kind: 'error', reason: (e as Error).message };
  }
}
