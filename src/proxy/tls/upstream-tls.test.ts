// TLS origination on clusters: CA and SAN verification (a bad SAN fails as a connect failure), SNI,
// mutual TLS with a client certificate (from files or an SDS secret), and tcp_proxy over TLS.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { bootstrapFrom } from '../bootstrap/bootstrap.js';
import { Proxy } from '../proxy.js';
import { admin, get, hcm, httpListener, routeConfig, staticCluster } from '../test-util.js';
import { TestPki, type CertFiles } from './test-pki.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

function tlsSocket(ctx: Record<string, unknown>): any {
  return { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': UPSTREAM_TLS, ...ctx } };
}

async function httpsBackend(
  pki: TestPki,
  requireClientCert: boolean,
): Promise<{
  server: HttpsServer;
  port: number;
  cert: CertFiles;
  seen: Array<{ sni: string; client: string }>;
}> {
  const leaf = pki.issue(`backend-${requireClientCert ? 'm' : 's'}`, 'backend', ['backend.example.com']);
  const seen: Array<{ sni: string; client: string }> = [];
  const server = createHttpsServer(
    {
      cert: leaf.cert,
      key: leaf.key,
      ca: pki.ca.cert,
      requestCert: requireClientCert,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const s = req.socket as TLSSocket;
      seen.push({
        sni: String(s.servername ?? ''),
        client: String(s.getPeerCertificate()?.subject?.CN ?? ''),
      });
      res.end('secure hello');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, cert: leaf, seen };
}

describe('upstream TLS origination', () => {
  let pki: TestPki;
  let simple: Awaited<ReturnType<typeof httpsBackend>>;
  let mutual: Awaited<ReturnType<typeof httpsBackend>>;
  let proxy: Proxy;

  before(async () => {
    pki = new TestPki();
    const client = pki.issue('client', 'proxy-client', ['client.example.com']);
    simple = await httpsBackend(pki, false);
    mutual = await httpsBackend(pki, true);
    const crl = pki.crl('revoked', [simple.cert]);
    const verify = (san: string): any => ({
      validationContext: { trustedCa: { filename: pki.ca.certFile }, matchSubjectAltNames: [{ exact: san }] },
    });
    const clusters = [
      staticCluster('good', [simple.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: verify('backend.example.com'),
        }),
      }),
      staticCluster('badsan', [simple.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: verify('other.example.com'),
        }),
      }),
      staticCluster('mtls-files', [mutual.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: {
            ...verify('backend.example.com'),
            tlsCertificates: [
              { certificateChain: { filename: client.certFile }, privateKey: { filename: client.keyFile } },
            ],
          },
        }),
      }),
      staticCluster('mtls-sds', [mutual.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: {
            tlsCertificateSdsSecretConfigs: [{ name: 'client-cert', sdsConfig: { ads: {} } }],
            validationContextSdsSecretConfig: { name: 'root-ca', sdsConfig: { ads: {} } },
          },
        }),
      }),
      staticCluster('revoked', [simple.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: {
            validationContext: { trustedCa: { filename: pki.ca.certFile }, crl: { filename: crl } },
          },
        }),
      }),
      staticCluster('mtls-nocert', [mutual.port], {
        transportSocket: tlsSocket({
          sni: 'backend.example.com',
          commonTlsContext: verify('backend.example.com'),
        }),
      }),
    ];
    const routes = ['good', 'badsan', 'revoked', 'mtls-files', 'mtls-sds', 'mtls-nocert'].map((c) => ({
      match: { prefix: `/${c}` },
      route: { cluster: c },
    }));
    const listeners = [
      httpListener('http', hcm(routeConfig('local', routes))),
      {
        name: 'tcp',
        address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
        filterChains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.tcp_proxy',
                typedConfig: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                  statPrefix: 'tls_origination',
                  cluster: 'good',
                },
              },
            ],
          },
        ],
      },
    ];
    const secrets = [
      {
        name: 'client-cert',
        tlsCertificate: {
          certificateChain: { inlineString: client.cert },
          privateKey: { inlineString: client.key },
        },
      },
      { name: 'root-ca', validationContext: { trustedCa: { inlineString: pki.ca.cert } } },
    ];
    proxy = await Proxy.start({
      bootstrap: bootstrapFrom({ staticResources: { listeners, clusters, secrets } }),
      adminPort: 0,
      drainTimeMs: 1000,
      logLevel: 'warning',
    });
  });

  after(async () => {
    await proxy.close();
    simple.server.close();
    mutual.server.close();
    pki.cleanup();
  });

  it('verifies the CA and SAN and sends the configured SNI', async () => {
    const r = await get(proxy.listenerPort('http'), '/good');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'secure hello');
    assert.equal(simple.seen.at(-1)?.sni, 'backend.example.com');
  });

  it('a certificate whose SAN matches no rule fails the connection: 503 UF', async () => {
    const r = await get(proxy.listenerPort('http'), '/badsan');
    assert.equal(r.status, 503);
    assert.match(r.body, /upstream connect error/);
    const stats = (await admin(proxy, '/stats?filter=cluster.badsan.upstream_cx_connect_fail')).body;
    assert.match(stats, /upstream_cx_connect_fail: [1-9]/);
  });

  it('a CRL that revokes the server certificate fails the connection', async () => {
    const r = await get(proxy.listenerPort('http'), '/revoked');
    assert.equal(r.status, 503, r.body);
  });

  it('mutual TLS: the client certificate from files or from SDS is presented; none is refused', async () => {
    const files = await get(proxy.listenerPort('http'), '/mtls-files');
    assert.equal(files.status, 200, files.body);
    assert.equal(mutual.seen.at(-1)?.client, 'proxy-client');
    const sds = await get(proxy.listenerPort('http'), '/mtls-sds');
    assert.equal(sds.status, 200, sds.body);
    const none = await get(proxy.listenerPort('http'), '/mtls-nocert');
    assert.ok(none.status >= 500, `status ${none.status}`);
  });

  it('tcp_proxy originates TLS too', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = netConnect(proxy.listenerPort('tcp'), '127.0.0.1');
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('close', () => resolve(data));
      s.on('error', reject);
      s.write('GET / HTTP/1.1\r\nhost: backend.example.com\r\nconnection: close\r\n\r\n');
    });
    assert.match(got, /^HTTP\/1\.1 200/);
    assert.match(got, /secure hello/);
  });
});
