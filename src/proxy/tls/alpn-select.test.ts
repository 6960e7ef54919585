// Server ALPN selection over a real TLS handshake: Envoy's server preference, no failure for an in-mesh
// client that shares no value, and never an unasked-for istio-peer-exchange.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import { alpnCallbackFor } from './alpn-select.js';
import { TestPki } from './test-pki.js';

const pki = new TestPki();
const leaf = pki.issue('server', 'server', ['localhost']);
const ctx = createSecureContext({ key: leaf.key, cert: leaf.cert });
after(() => pki.cleanup());

/** The ALPN each side ends up with, or 'refused' when the handshake fails. */
async function negotiate(server: readonly string[], client: string[]): Promise<string> {
  const srv = createServer((s) => {
    const t = new TLSSocket(s, { isServer: true, secureContext: ctx, ALPNCallback: alpnCallbackFor(server) });
    t.on('error', () => t.destroy());
    t.on('secure', () => t.end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<string>((resolve) => {
      const c = tlsConnect({
        host: '127.0.0.1',
        port: (srv.address() as AddressInfo).port,
        ALPNProtocols: client,
        rejectUnauthorized: false,
      });
      c.on('secureConnect', () => resolve(String(c.alpnProtocol)));
      c.on('error', () => resolve('refused'));
    });
  } finally {
    srv.close();
  }
}

test("ALPN: the chain's first value the client offers, else the client's first but never istio-peer-exchange", async () => {
  const tcp = ['istio-peer-exchange', 'h2', 'http/1.1'];
  assert.equal(await negotiate(tcp, ['istio-peer-exchange', 'istio']), 'istio-peer-exchange');
  assert.equal(await negotiate(tcp, ['istio', 'h2']), 'h2');
  // No shared value: Envoy goes on without ALPN; Node picks the client's value rather than refuse.
  assert.equal(await negotiate(tcp, ['istio']), 'istio');
  const http = ['h2', 'http/1.1'];
  assert.equal(await negotiate(http, ['istio-peer-exchange', 'istio']), 'istio');
  assert.equal(await negotiate(http, ['istio-peer-exchange']), 'refused');
});
