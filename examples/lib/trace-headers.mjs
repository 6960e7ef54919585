// The request headers a mesh app copies from its inbound request onto every downstream call.

/** Trace context headers that Istio's proxies and tracers read (B3, W3C, OpenTracing, Google, gRPC). */
export const TRACE_HEADERS = Object.freeze([
  'x-request-id',
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'b3',
  'x-cloud-trace-context',
  'grpc-trace-bin',
]);

/** Trace headers plus `end-user`, which routing rules match on (e.g. `end-user: jason`). */
export const PROPAGATED_HEADERS = Object.freeze([...TRACE_HEADERS, 'end-user']);

/**
 * Copies the named headers present in `incoming` (Node's lower-cased `req.headers`) into a new object.
 * @param {import('node:http').IncomingHttpHeaders} incoming
 * @param {readonly string[]} names lower-case header names
 * @returns {Record<string, string>}
 */
export function pickHeaders(incoming, names) {
  const out = {};
  for (const name of names) {
    const value = incoming[name];
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(', ');
  }
  return out;
}
