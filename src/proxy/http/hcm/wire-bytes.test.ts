// Head sizes for Istio's istio_request_bytes / istio_response_bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h1RequestHeadBytes, h2HeaderBytes, h2ResponseHeaderBytes } from './wire-bytes.js';

test('an HTTP/1.1 request head is counted byte for byte as received', () => {
  const head = 'GET /a?b=1 HTTP/1.1\r\nHost: x:9080\r\nX-Thing: v w\r\n\r\n';
  assert.equal(
    h1RequestHeadBytes('GET', '/a?b=1', '1.1', ['Host', 'x:9080', 'X-Thing', 'v w']),
    Buffer.byteLength(head),
  );
});

test("HTTP/2 heads count names and values, pseudo-headers included (Envoy's header map byteSize)", () => {
  assert.equal(h2HeaderBytes([':method', 'GET', ':path', '/', 'a', 'bc']), 7 + 3 + 5 + 1 + 1 + 2);
  assert.equal(h2ResponseHeaderBytes(200, { 'content-type': 'text/plain', x: ['1', '22'] }), 10 + 22 + 2 + 3);
});
