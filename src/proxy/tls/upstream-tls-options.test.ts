// UpstreamTlsContext options beyond certificates: a server's renegotiation request is refused unless
// allow_renegotiation (Envoy's default; Node's client would renegotiate), and the TLS fields this proxy
// does not implement are refused naming the field (a NACK over xDS) or, for session resumption, warned.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { Proxy } from '../proxy.js';
import { get, hcm, httpListener, routeConfig, startProxy, staticCluster, waitFor } from '../test-util.js';
import { SecretManager } from './secret-manager.js';
import { TestPki } from './test-pki.js';
import { compileUpstreamTransport } from './upstream-tls.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

function tlsSocket(ctx: Record<string, unknown>) {
  return { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': UPSTREAM_TLS, ...ctx } };
}

/** Compiles an UpstreamTlsContext; returns the warning lines the proxy logged meanwhile. */
function compile(ctx: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    lines.push(String(chunk));
    return true;
  };
  try {
    compileUpstreamTransport(tlsSocket(ctx), null);
  } finally {
    process.stderr.write = write;
  }
  return lines.filter((l) => l.includes('\twarning\t'));
}

describe('upstream TLS renegotiation (allow_renegotiation)', () => {
  let pki: TestPki;
  let backend: HttpsServer;
  let proxy: Proxy;
  /** The backend's renegotiation results, one per request: 'ok' or the error code. */
  const renegotiations: string[] = [];

  before(async () => {
    pki = new TestPki();
    const leaf = pki.issue('reneg', 'backend', ['backend.example.com']);
    // A TLS 1.2 server that asks for a renegotiation before it answers each request.
    backend = createHttpsServer({ cert: leaf.cert, key: leaf.key, maxVersion: 'TLSv1.2' }, (req, res) => {
      const s = req.socket as TLSSocket;
      // A refused renegotiation surfaces as the socket's error (the callback may never run).
      s.on('error', (e: NodeJS.ErrnoException) => renegotiations.push(String(e.code ?? e.message)));
      s.renegotiate({ rejectUnauthorized: false }, (err) => {
        if (err) return;
        renegotiations.push('ok');
        res.end('renegotiated');
      });
    });
    backend.on('tlsClientError', () => {});
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    const ctx = {
      sni: 'backend.example.com',
      commonTlsContext: { validationContext: { trustedCa: { filename: pki.ca.certFile } } },
    };
    proxy = await startProxy(
      [
        httpListener(
          'http',
          hcm(
            routeConfig('local', [
              { match: { prefix: '/default' }, route: { cluster: 'default' } },
              { match: { prefix: '/allowed' }, route: { cluster: 'allowed' } },
            ]),
          ),
        ),
      ],
      [
        staticCluster('default', [port], { transportSocket: tlsSocket(ctx) }),
        staticCluster('allowed', [port], {
          transportSocket: tlsSocket({ ...ctx, allowRenegotiation: true }),
        }),
      ],
    );
  });

  after(async () => {
    await proxy.close();
    backend.closeAllConnections();
    backend.close();
    pki.cleanup();
  });

  it('refuses a server-initiated renegotiation by default: the request fails, 503', async () => {
    const r = await get(proxy.listenerPort('http'), '/default');
    assert.equal(r.status, 503, r.body);
    assert.match(r.body, /upstream connect error or disconnect\/reset before headers/);
    await waitFor('the backend to see the renegotiation refused', () => renegotiations.length > 0);
    assert.deepEqual(new Set(renegotiations), new Set(['ERR_SSL_NO_RENEGOTIATION']));
  });

  it('renegotiates with allow_renegotiation: true', async () => {
    const r = await get(proxy.listenerPort('http'), '/allowed');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'renegotiated');
    assert.equal(renegotiations.at(-1), 'ok');
  });
});

describe('TLS fields this proxy does not implement', () => {
  let pki: TestPki;
  let ca: { filename: string };

  before(() => {
    pki = new TestPki();
    ca = { filename: pki.ca.certFile };
  });
  after(() => pki.cleanup());

  it('compiles the defaults quietly', () => {
    assert.deepEqual(
      compile({
        commonTlsContext: { validationContext: { trustedCa: ca } },
        allowRenegotiation: false,
        maxSessionKeys: { value: 0 },
        enforceRsaKeyUsage: { value: false },
      }),
      [],
    );
  });

  it('refuses enforce_rsa_key_usage: true', () => {
    assert.throws(
      () => compile({ enforceRsaKeyUsage: { value: true } }),
      /transportSocket\.typedConfig\.enforceRsaKeyUsage: true is not supported/,
    );
  });

  it('warns in one line that max_session_keys above 0 is not enforced', () => {
    const w = compile({ maxSessionKeys: { value: 4 } });
    assert.equal(w.length, 1);
    assert.match(w[0], /maxSessionKeys: 4 is not enforced: this proxy does not resume TLS sessions/);
  });

  it('refuses watched_directory on a data source, a certificate or a validation context', () => {
    assert.throws(
      () =>
        compile({
          commonTlsContext: {
            validationContext: { trustedCa: { ...ca, watchedDirectory: { path: '/tmp' } } },
          },
        }),
      /validationContext\.trustedCa\.watchedDirectory is not supported/,
    );
    assert.throws(
      () =>
        compile({
          commonTlsContext: { validationContext: { trustedCa: ca, watchedDirectory: { path: '/tmp' } } },
        }),
      /commonTlsContext\.validationContext\.watchedDirectory is not supported/,
    );
    const leaf = pki.issue('w', 'w', ['w.example.com']);
    const cert = { certificateChain: { filename: leaf.certFile }, privateKey: { filename: leaf.keyFile } };
    assert.throws(
      () =>
        compile({ commonTlsContext: { tlsCertificates: [{ ...cert, watchedDirectory: { path: '/tmp' } }] } }),
      /tlsCertificates\[0\]\.watchedDirectory is not supported/,
    );
  });

  it('refuses validation and handshake options it cannot honour', () => {
    for (const [field, value] of [
      ['allowExpiredCertificate', true],
      ['trustChainVerification', 'ACCEPT_UNTRUSTED'],
      ['maxVerifyDepth', { value: 2 }],
      ['systemRootCerts', {}],
    ] as const)
      assert.throws(
        () => compile({ commonTlsContext: { validationContext: { trustedCa: ca, [field]: value } } }),
        new RegExp(`validationContext\\.${field} is not supported`),
      );
    assert.deepEqual(
      compile({
        commonTlsContext: {
          validationContext: { trustedCa: ca, trustChainVerification: 'VERIFY_TRUST_CHAIN' },
        },
      }),
      [],
    );
    assert.throws(
      () => compile({ commonTlsContext: { tlsParams: { signatureAlgorithms: ['ecdsa_secp256r1_sha256'] } } }),
      /tlsParams\.signatureAlgorithms is not supported/,
    );
    assert.throws(
      () => compile({ commonTlsContext: { keyLog: { path: '/tmp/keys' } } }),
      /commonTlsContext\.keyLog is not supported/,
    );
  });

  it('an SDS secret with such a field is rejected (NACK) and not installed', () => {
    const secrets = new SecretManager();
    const errors = secrets.apply(
      [{ name: 'root', validationContext: { trustedCa: ca, allowExpiredCertificate: true } }],
      'v1',
      'dynamic',
    );
    assert.deepEqual(errors, [
      'secret root: validationContext.allowExpiredCertificate is not supported by this proxy',
    ]);
    assert.equal(secrets.get('root'), undefined);
  });
});
