// TLS termination and filter-chain selection: ALPN h2 and http/1.1 over TLS, SNI-selected chains, and
// plaintext on the same listener port.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import {
  get,
  hcm,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../test-util.js';
import { TestPki } from '../tls/test-pki.js';

const pki = new TestPki();
const server = pki.issue('server', 'localhost', ['localhost', '*.mizzen.test', 'IP:127.0.0.1']);
const client = pki.issue('client', 'client', ['client.mizzen.test']);
const TEST_CA = pki.ca.cert;

function tlsSocket(requireClient: boolean): any {
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: {
        tlsCertificates: [
          { certificateChain: { filename: server.certFile }, privateKey: { inlineString: server.key } },
        ],
        alpnProtocols: ['h2', 'http/1.1'],
        ...(requireClient ? { validationContext: { trustedCa: { inlineString: pki.ca.cert } } } : {}),
      },
      ...(requireClient ? { requireClientCertificate: { value: true } } : {}),
    },
  };
}

function chain(
  match: Record<string, unknown>,
  statPrefix: string,
  cluster: string,
  tls: boolean,
  mtls = false,
): any {
  const routes = routeConfig(statPrefix, [{ match: { prefix: '/' }, route: { cluster } }]);
  return {
    filterChainMatch: match,
    filters: [
      { name: 'envoy.filters.network.http_connection_manager', typedConfig: hcm(routes, { statPrefix }) },
    ],
    ...(tls ? { transportSocket: tlsSocket(mtls) } : {}),
  };
}

function httpsGet(
  port: number,
  servername: string,
  path: string,
  cert?: { cert: string; key: string },
): Promise<{ status: number; body: string; alpn: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername,
        ca: TEST_CA,
        agent: false,
        ALPNProtocols: ['http/1.1'],
        ...cert,
      } as any,
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, alpn: String((res.socket as any).alpnProtocol) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS listeners', () => {
  let secure: Backend;
  let other: Backend;
  let plain: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    secure = await startBackend('secure');
    other = await startBackend('other');
    plain = await startBackend('plain');
    const listener = {
      name: 'mixed',
      address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
      filterChains: [
        chain({ serverNames: ['secure.mizzen.test'], transportProtocol: 'tls' }, 'secure', 'secure', true),
        chain({ serverNames: ['mtls.mizzen.test'], transportProtocol: 'tls' }, 'mtls', 'secure', true, true),
        chain({ transportProtocol: 'tls' }, 'other_tls', 'other', true),
        chain({ transportProtocol: 'raw_buffer' }, 'plain', 'plain', false),
      ],
    };
    proxy = await startProxy(
      [listener],
      [
        staticCluster('secure', [secure.port]),
        staticCluster('other', [other.port]),
        staticCluster('plain', [plain.port]),
      ],
    );
    port = proxy.listenerPort('mixed');
  });

  after(async () => {
    await proxy.close();
    for (const b of [secure, other, plain]) await b.close();
    pki.cleanup();
  });

  it('requires and verifies a client certificate when the chain asks for one', async () => {
    await assert.rejects(httpsGet(port, 'mtls.mizzen.test', '/no-cert'));
    const r = await httpsGet(port, 'mtls.mizzen.test', '/with-cert', { cert: client.cert, key: client.key });
    assert.equal(r.status, 200);
  });

  it('terminates TLS with ALPN http/1.1 and picks the chain by SNI', async () => {
    const r = await httpsGet(port, 'secure.mizzen.test', '/a');
    assert.equal(r.status, 200);
    assert.equal(r.alpn, 'http/1.1');
    assert.equal(JSON.parse(r.body).name, 'secure');
    assert.equal(secure.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
    const o = await httpsGet(port, 'else.mizzen.test', '/b');
    assert.equal(JSON.parse(o.body).name, 'other');
  });

  it('speaks HTTP/2 when ALPN negotiates h2', async () => {
    const session = connect(`https://127.0.0.1:${port}`, { ca: TEST_CA, servername: 'secure.mizzen.test' });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/h2', ':authority': 'secure.mizzen.test' });
        let status = 0;
        let body = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (d: Buffer) => (body += d.toString()));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
      });
      assert.equal(status, 200);
      assert.equal(JSON.parse(body).name, 'secure');
      assert.equal(session.alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  it('serves plaintext HTTP on the same port through the raw_buffer chain', async () => {
    const r = await get(port, '/plain');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'plain');
  });
});
