// Trace context propagation: reads a parent span context from B3 (x-b3-* or the single `b3` header)
// or W3C `traceparent`/`tracestate`, and writes a span's context back in every format, so apps that
// forward either B3 or W3C headers keep one trace.
import type { HeaderMap } from '../http/route/header-mutation.js';

/** Sampling state carried by a context: unknown (no flag), not sampled, sampled. */
export const enum Sampled {
  Unknown = -1,
  No = 0,
  Yes = 1,
}

/** A span context as it travels in headers. Ids are lower-case hex. */
export interface SpanContext {
  /** 32 hex digits (a 16-digit B3 trace id is kept as received). */
  readonly traceId: string;
  /** 16 hex digits. */
  readonly spanId: string;
  /** The parent of `spanId`, '' when none. */
  readonly parentId: string;
  readonly sampled: Sampled;
  /** W3C tracestate as received ('' when none); vendors' state passes through unchanged. */
  readonly tracestate: string;
}

const HEX16 = /^[0-9a-f]{16}$/;
const HEX16_32 = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const ZERO = /^0+$/;

function one(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

function validTrace(id: string): boolean {
  return HEX16_32.test(id) && !ZERO.test(id);
}

function validSpan(id: string): boolean {
  return HEX16.test(id) && !ZERO.test(id);
}

function b3Sampled(v: string | undefined): Sampled {
  if (v === undefined) return Sampled.Unknown;
  if (v === '1' || v === 'true' || v === 'd') return Sampled.Yes;
  if (v === '0' || v === 'false') return Sampled.No;
  return Sampled.Unknown;
}

/** `b3: {traceid}-{spanid}[-{sampled}[-{parentspanid}]]`, or a bare sampling state. */
function fromB3Single(v: string, tracestate: string): SpanContext | null {
  const parts = v.trim().toLowerCase().split('-');
  if (parts.length === 1) {
    // Only a sampling decision: no parent, but the decision travels on.
    const s = b3Sampled(parts[0]);
    return s === Sampled.Unknown ? null : { traceId: '', spanId: '', parentId: '', sampled: s, tracestate };
  }
  const [traceId, spanId, sampled, parentId = ''] = parts;
  if (!validTrace(traceId) || !validSpan(spanId)) return null;
  if (parentId !== '' && !validSpan(parentId)) return null;
  return { traceId, spanId, parentId, sampled: b3Sampled(sampled), tracestate };
}

/** `traceparent: 00-{32 hex trace id}-{16 hex parent id}-{2 hex flags}`. */
function fromTraceparent(v: string, tracestate: string): SpanContext | null {
  const p = v.trim().toLowerCase().split('-');
  if (p.length < 4 || p[0] === 'ff' || !/^[0-9a-f]{2}$/.test(p[0]) || !/^[0-9a-f]{2}$/.test(p[3]))
    return null;
  if (p[0] === '00' && p.length !== 4) return null;
  if (p[1].length !== 32 || !validTrace(p[1]) || !validSpan(p[2])) return null;
  const sampled = (parseInt(p[3], 16) & 1) === 1 ? Sampled.Yes : Sampled.No;
  return { traceId: p[1], spanId: p[2], parentId: '', sampled, tracestate };
}

/**
 * The parent context of a request: the single `b3` header first, then `x-b3-*`, then W3C
 * `traceparent`. Null when none is present or valid (the request starts a new trace). A context with
 * an empty traceId carries only a sampling decision.
 */
export function extractContext(h: HeaderMap): SpanContext | null {
  const tracestate = one(h, 'tracestate') ?? '';
  const single = one(h, 'b3');
  if (single !== undefined) {
    const c = fromB3Single(single, tracestate);
    if (c !== null) return c;
  }
  const traceId = one(h, 'x-b3-traceid');
  const flags = one(h, 'x-b3-flags');
  const sampled = flags === '1' ? Sampled.Yes : b3Sampled(one(h, 'x-b3-sampled'));
  if (traceId !== undefined) {
    const t = traceId.trim().toLowerCase();
    const s = (one(h, 'x-b3-spanid') ?? '').trim().toLowerCase();
    const p = (one(h, 'x-b3-parentspanid') ?? '').trim().toLowerCase();
    if (validTrace(t) && validSpan(s) && (p === '' || validSpan(p)))
      return { traceId: t, spanId: s, parentId: p, sampled, tracestate };
  }
  const tp = one(h, 'traceparent');
  if (tp !== undefined) {
    const c = fromTraceparent(tp, tracestate);
    if (c !== null) return c;
  }
  if (sampled !== Sampled.Unknown) return { traceId: '', spanId: '', parentId: '', sampled, tracestate };
  return null;
}

/**
 * Writes a span's context into request headers for the next hop: `x-b3-*`, `b3` (only when the
 * request carried the single header), and W3C `traceparent` (tracestate is left as received).
 */
export function injectContext(
  h: HeaderMap,
  traceId: string,
  spanId: string,
  parentId: string,
  sampled: boolean,
): void {
  const s = sampled ? '1' : '0';
  h['x-b3-traceid'] = traceId;
  h['x-b3-spanid'] = spanId;
  if (parentId !== '') h['x-b3-parentspanid'] = parentId;
  else delete h['x-b3-parentspanid'];
  h['x-b3-sampled'] = s;
  delete h['x-b3-flags'];
  if (h['b3'] !== undefined)
    h['b3'] = parentId !== '' ? `${traceId}-${spanId}-${s}-${parentId}` : `${traceId}-${spanId}-${s}`;
  h['traceparent'] = `00-${traceId.length === 32 ? traceId : traceId.padStart(32, '0')}-${spanId}-0${s}`;
}
