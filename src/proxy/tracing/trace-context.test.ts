// Trace context extraction/injection (B3 multi and single header, W3C traceparent) and the x-request-id
// trace status, with the exact header values Envoy and the B3/W3C specifications use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractContext, injectContext, Sampled } from './trace-context.js';
import { requestIdModulo, traceStatusOf, TraceStatus, withTraceStatus } from './request-id.js';

const T32 = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';
const P = '0020000000000001';

describe('trace context', () => {
  it('reads B3 multi headers with their sampled flag', () => {
    const c = extractContext({
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
    });
    assert.deepEqual(c, { traceId: T32, spanId: S, parentId: P, sampled: Sampled.Yes, tracestate: '' });
    assert.equal(
      extractContext({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' })?.sampled,
      Sampled.Yes,
    );
    assert.equal(
      extractContext({ 'x-b3-traceid': T32.slice(16), 'x-b3-spanid': S })?.sampled,
      Sampled.Unknown,
    );
  });

  it('prefers the single b3 header, and reads a bare sampling decision', () => {
    const c = extractContext({
      b3: `${T32}-${S}-0-${P}`,
      'x-b3-traceid': 'ffffffffffffffff',
      'x-b3-spanid': S,
    });
    assert.deepEqual(c, { traceId: T32, spanId: S, parentId: P, sampled: Sampled.No, tracestate: '' });
    assert.deepEqual(extractContext({ b3: '0' }), {
      traceId: '',
      spanId: '',
      parentId: '',
      sampled: Sampled.No,
      tracestate: '',
    });
    assert.equal(extractContext({ 'x-b3-sampled': '1' })?.sampled, Sampled.Yes);
  });

  it('reads W3C traceparent and keeps tracestate', () => {
    const c = extractContext({ traceparent: `00-${T32}-${S}-01`, tracestate: 'rojo=00f067aa0ba902b7' });
    assert.deepEqual(c, {
      traceId: T32,
      spanId: S,
      parentId: '',
      sampled: Sampled.Yes,
      tracestate: 'rojo=00f067aa0ba902b7',
    });
    assert.equal(extractContext({ traceparent: `00-${T32}-${S}-00` })?.sampled, Sampled.No);
  });

  it('ignores malformed or all-zero ids', () => {
    assert.equal(extractContext({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': S }), null);
    assert.equal(extractContext({ 'x-b3-traceid': T32, 'x-b3-spanid': '0000000000000000' }), null);
    assert.equal(extractContext({ traceparent: `00-${'0'.repeat(32)}-${S}-01` }), null);
    assert.equal(extractContext({ traceparent: `ff-${T32}-${S}-01` }), null);
    assert.equal(extractContext({ b3: 'nonsense-x' }), null);
    assert.equal(extractContext({}), null);
  });

  it('writes B3 multi, the single b3 header when the request had one, and traceparent', () => {
    const h: Record<string, string> = { b3: '1', 'x-b3-flags': '1' };
    injectContext(h, T32, S, P, true);
    assert.deepEqual(h, {
      b3: `${T32}-${S}-1-${P}`,
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
      traceparent: `00-${T32}-${S}-01`,
    });
    const h2: Record<string, string> = { 'x-b3-parentspanid': P };
    injectContext(h2, T32.slice(16), S, '', false);
    assert.equal(h2['x-b3-parentspanid'], undefined);
    assert.equal(h2['traceparent'], `00-0000000000000000${T32.slice(16)}-${S}-00`);
    assert.equal(h2['b3'], undefined);
  });
});

describe('x-request-id trace status (Envoy UUID extension)', () => {
  const rid = '6ee9d8b0-5b43-4a7e-8f2b-2d3c0f0a1b2c';
  it('stores and reads the decision in the version digit', () => {
    assert.equal(traceStatusOf(rid), TraceStatus.NoTrace);
    assert.equal(withTraceStatus(rid, TraceStatus.Sampled), '6ee9d8b0-5b43-9a7e-8f2b-2d3c0f0a1b2c');
    assert.equal(traceStatusOf(withTraceStatus(rid, TraceStatus.Sampled)), TraceStatus.Sampled);
    assert.equal(traceStatusOf(withTraceStatus(rid, TraceStatus.Forced)), TraceStatus.Forced);
    assert.equal(traceStatusOf(withTraceStatus(rid, TraceStatus.Client)), TraceStatus.Client);
    assert.equal(withTraceStatus('not-a-uuid', TraceStatus.Sampled), 'not-a-uuid');
  });
  it('derives the sampling roll from the first 8 hex digits', () => {
    assert.equal(requestIdModulo(rid, 10_000), 0x6ee9d8b0 % 10_000);
    assert.equal(requestIdModulo('x', 10_000), -1);
  });
});
