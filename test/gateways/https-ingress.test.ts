// HTTPS ingress through real processes: `mizzen server` watching a config dir and `mizzen proxy router`
// as the ingress gateway. SIMPLE TLS from a Kubernetes Secret over SDS (curl --cacert), two hosts on one
// port with their own certificates by SNI, MUTUAL (no client certificate refused, one accepted),
// minProtocolVersion, Secret rotation served without a restart, httpsRedirect (301), and SNI passthrough
// to a TLS backend that keeps its own certificate.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { TestPki, type CertFiles } from '../../src/proxy/tls/test-pki.js';
import {
  curl,
  freeGatewayOffset,
  startProxy,
  startServer,
  tlsProbe,
  waitFor,
  type ProxyProcess,
  type ServerProcess,
} from './harness.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function tlsSecret(name: string, c: CertFiles, ca?: string): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: istio-system }
type: kubernetes.io/tls
data:
  tls.crt: ${b64(c.cert)}
  tls.key: ${b64(c.key)}
${ca ? `  ca.crt: ${b64(ca)}\n` : ''}`;
}

/** The older Istio docs' generic Secret with `cert`/`key` keys. */
function genericSecret(name: string, c: CertFiles): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: istio-system }
type: Opaque
stringData:
  cert: |
${c.cert.replace(/^/gm, '    ')}
  key: |
${c.key.replace(/^/gm, '    ')}
`;
}

function meshConfig(httpPort: number, nginxPort: number, files: CertFiles): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin }
spec:
  hosts: [httpbin.mesh.test]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8000, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${httpPort} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: nginx }
spec:
  hosts: [nginx.mesh.test]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints: [{ address: 127.0.0.1, ports: { tls: ${nginxPort} } }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mygateway }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: [httpbin.example.com]
      tls: { httpsRedirect: true }
    - port: { number: 443, name: https-httpbin, protocol: HTTPS }
      hosts: [httpbin.example.com]
      tls: { mode: SIMPLE, credentialName: httpbin-credential }
    - port: { number: 443, name: https-helloworld, protocol: HTTPS }
      hosts: [helloworld.example.com]
      tls: { mode: SIMPLE, credentialName: helloworld-credential, minProtocolVersion: TLSV1_3 }
    - port: { number: 443, name: https-mtls, protocol: HTTPS }
      hosts: [mtls.example.com]
      tls: { mode: MUTUAL, credentialName: mtls-credential }
    - port: { number: 443, name: https-files, protocol: HTTPS }
      hosts: [files.example.com]
      tls:
        mode: SIMPLE
        serverCertificate: ${files.certFile}
        privateKey: ${files.keyFile}
        maxProtocolVersion: TLSV1_2
        cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]
    - port: { number: 443, name: tls-nginx, protocol: TLS }
      hosts: [nginx.example.com]
      tls: { mode: PASSTHROUGH }
    - port: { number: 853, name: tls-cross-network, protocol: TLS }
      hosts: ["*.mesh.test"]
      tls: { mode: AUTO_PASSTHROUGH }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: [httpbin.example.com, helloworld.example.com, mtls.example.com, files.example.com]
  gateways: [mygateway]
  http:
    - route: [{ destination: { host: httpbin.mesh.test, port: { number: 8000 } } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: nginx }
spec:
  hosts: [nginx.example.com]
  gateways: [mygateway]
  tls:
    - match: [{ port: 443, sniHosts: [nginx.example.com] }]
      route: [{ destination: { host: nginx.mesh.test, port: { number: 443 } } }]
`;
}

describe('HTTPS ingress gateway (mizzen server + mizzen proxy router)', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-https-'));
  const config = join(dir, 'config');
  let pki: TestPki;
  let certs: Record<string, CertFiles>;
  let backend: HttpServer;
  let nginx: TlsServer;
  let server: ServerProcess | undefined;
  let gateway: ProxyProcess | undefined;
  let offset = 0;
  const https = (): number => 443 + offset;

  before(async () => {
    pki = new TestPki();
    certs = {
      httpbin: pki.issue('httpbin', 'httpbin.example.com', ['httpbin.example.com']),
      rotated: pki.issue('httpbin-2', 'httpbin.example.com rotated', ['httpbin.example.com']),
      helloworld: pki.issue('helloworld', 'helloworld.example.com', ['helloworld.example.com']),
      mtls: pki.issue('mtls', 'mtls.example.com', ['mtls.example.com']),
      client: pki.issue('client', 'client.example.com', ['client.example.com']),
      nginx: pki.issue('nginx', 'nginx backend', ['nginx.example.com']),
      files: pki.issue('files', 'files.example.com', ['files.example.com']),
    };
    backend = createHttpServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ url: req.url, host: req.headers.host, proto: req.headers['x-forwarded-proto'] }),
      );
    });
    nginx = createTlsServer({ cert: certs.nginx.cert, key: certs.nginx.key }, (s) => {
      s.on('error', () => {});
      s.on('data', () => s.end('hello from the TLS backend\n'));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => nginx.listen(0, '127.0.0.1', r));
    mkdirSync(config);
    writeFileSync(
      join(config, 'mesh.yaml'),
      meshConfig((backend.address() as AddressInfo).port, (nginx.address() as AddressInfo).port, certs.files),
    );
    writeFileSync(join(config, 'httpbin-credential.yaml'), tlsSecret('httpbin-credential', certs.httpbin));
    writeFileSync(
      join(config, 'helloworld-credential.yaml'),
      genericSecret('helloworld-credential', certs.helloworld),
    );
    writeFileSync(
      join(config, 'mtls-credential.yaml'),
      tlsSecret('mtls-credential', certs.mtls, pki.ca.cert),
    );
    offset = await freeGatewayOffset([80, 443, 853]);
    server = await startServer(config);
    gateway = await startProxy({
      kind: 'router',
      xds: server.xds,
      ip: '127.0.0.1',
      name: 'istio-ingressgateway-test',
      namespace: 'istio-system',
      labels: { istio: 'ingressgateway' },
      readyFile: join(dir, 'gateway-ready.json'),
      extraMetadata: { MIZZEN_GATEWAY_PORT_OFFSET: String(offset) },
    });
    await waitFor(
      'the gateway to serve the https port with its certificate',
      async () => (await tlsProbe(https(), 'httpbin.example.com', { ca: pki.ca.cert })).ok,
      30_000,
    );
  });

  after(async () => {
    await gateway?.stop();
    await server?.stop();
    backend.close();
    nginx.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const resolve = (host: string, port: number): string[] => ['--resolve', `${host}:${port}:127.0.0.1`];

  it('SIMPLE: curl --cacert reaches httpbin over HTTPS with the Secret certificate', async () => {
    const r = await curl([
      '--cacert',
      pki.ca.certFile,
      ...resolve('httpbin.example.com', https()),
      `https://httpbin.example.com:${https()}/status/418`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.status, 200, r.headers);
    assert.match(r.headers, /^server: istio-envoy/im);
    const body = JSON.parse(r.body) as { url: string; proto: string };
    assert.equal(body.url, '/status/418');
    assert.equal(body.proto, 'https');
  });

  it('two hosts on one port: each gets its own certificate by SNI (the second from cert/key keys)', async () => {
    const a = await tlsProbe(https(), 'httpbin.example.com', { ca: pki.ca.cert });
    const b = await tlsProbe(https(), 'helloworld.example.com', { ca: pki.ca.cert });
    assert.equal(a.cn, 'httpbin.example.com', a.error);
    assert.equal(b.cn, 'helloworld.example.com', b.error);
    const r = await curl([
      '--cacert',
      pki.ca.certFile,
      ...resolve('helloworld.example.com', https()),
      `https://helloworld.example.com:${https()}/hello`,
    ]);
    assert.equal(r.status, 200, r.stderr);
  });

  it('minProtocolVersion TLSV1_3: a TLS 1.2-only client is refused on that host, accepted on the others', async () => {
    const old = await tlsProbe(https(), 'helloworld.example.com', { ca: pki.ca.cert, maxVersion: 'TLSv1.2' });
    assert.equal(old.ok, false);
    const other = await tlsProbe(https(), 'httpbin.example.com', { ca: pki.ca.cert, maxVersion: 'TLSv1.2' });
    assert.equal(other.ok, true, other.error);
    assert.equal(other.protocol, 'TLSv1.2');
  });

  it('certificates from files; maxProtocolVersion TLSV1_2 and cipherSuites are enforced', async () => {
    const r = await tlsProbe(https(), 'files.example.com', { ca: pki.ca.cert });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.cn, 'files.example.com');
    assert.equal(r.protocol, 'TLSv1.2');
    assert.equal(r.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    const other = await tlsProbe(https(), 'files.example.com', {
      ca: pki.ca.cert,
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    });
    assert.equal(other.ok, false, 'a cipher suite outside cipherSuites is refused');
  });

  it('MUTUAL: refused without a client certificate, accepted with one', async () => {
    const url = `https://mtls.example.com:${https()}/headers`;
    const without = await curl(['--cacert', pki.ca.certFile, ...resolve('mtls.example.com', https()), url]);
    assert.notEqual(without.code, 0, 'the handshake must fail');
    assert.equal(without.status, 0);
    const withCert = await curl([
      '--cacert',
      pki.ca.certFile,
      '--cert',
      certs.client.certFile,
      '--key',
      certs.client.keyFile,
      ...resolve('mtls.example.com', https()),
      url,
    ]);
    assert.equal(withCert.code, 0, withCert.stderr);
    assert.equal(withCert.status, 200);
  });

  it('httpsRedirect: plain HTTP gets 301 to https', async () => {
    const port = 80 + offset;
    const r = await curl([
      ...resolve('httpbin.example.com', port),
      `http://httpbin.example.com:${port}/status/200`,
    ]);
    assert.equal(r.status, 301, r.headers);
    assert.match(
      r.headers,
      new RegExp(`^location: https://httpbin\\.example\\.com:${port}/status/200`, 'im'),
    );
  });

  it('PASSTHROUGH: the TLS backend is reached by SNI with its own certificate intact', async () => {
    const r = await tlsProbe(https(), 'nginx.example.com', { ca: pki.ca.cert, send: 'hi\n' });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.cn, 'nginx backend', 'the gateway did not terminate TLS');
    assert.equal(r.data, 'hello from the TLS backend\n');
  });

  it('AUTO_PASSTHROUGH: the SNI outbound_.PORT_.SUBSET_.HOST picks the service, the TLS goes through untouched', async () => {
    // What a sidecar on another network sends to an east-west gateway with Istio mutual TLS.
    const sni = 'outbound_.443_._.nginx.mesh.test';
    // (Not verified against the SNI: sidecars check the peer's SPIFFE ID, not this name.)
    const r = await tlsProbe(853 + offset, sni, { send: 'hi\n' });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.cn, 'nginx backend', 'the gateway did not terminate TLS');
    assert.equal(r.data, 'hello from the TLS backend\n');
    const unknown = await tlsProbe(853 + offset, 'outbound_.443_._.other.mesh.test');
    assert.equal(unknown.ok, false, 'an SNI no service answers to is not forwarded');
    const stats = await curl([`http://127.0.0.1:${gateway!.adminPort()}/stats?filter=${sni}`]);
    assert.match(
      stats.body,
      new RegExp(`^cluster\\.${sni.replace(/\./g, '\\.')}\\.upstream_cx_total: 1$`, 'm'),
    );
  });

  it('config_dump shows the SDS secrets with their private keys redacted', async () => {
    const r = await curl([
      `http://127.0.0.1:${gateway!.adminPort()}/config_dump?resource=dynamicActiveSecrets`,
    ]);
    const dump = JSON.parse(r.body) as { configs: Array<{ name: string; secret: any }> };
    const names = dump.configs.map((c) => c.name).sort();
    assert.deepEqual(names, [
      'kubernetes://helloworld-credential',
      'kubernetes://httpbin-credential',
      'kubernetes://mtls-credential',
      'kubernetes://mtls-credential-cacert',
    ]);
    const httpbin = dump.configs.find((c) => c.name === 'kubernetes://httpbin-credential')!;
    assert.equal(httpbin.secret.tlsCertificate.privateKey.inlineString, '[redacted]');
    assert.ok(!r.body.includes('PRIVATE KEY'));
    const chain = Buffer.from(String(httpbin.secret.tlsCertificate.certificateChain.inlineBytes), 'base64');
    assert.match(chain.toString(), /BEGIN CERTIFICATE/, 'bytes shown as base64, as Envoy does');
  });

  it('rotating the Secret: new connections get the new certificate, the gateway keeps running', async () => {
    const pid = gateway!.child.pid;
    const before = await tlsProbe(https(), 'httpbin.example.com', { ca: pki.ca.cert });
    writeFileSync(join(config, 'httpbin-credential.yaml'), tlsSecret('httpbin-credential', certs.rotated));
    const after = await waitFor(
      'the rotated certificate',
      async () => {
        const r = await tlsProbe(https(), 'httpbin.example.com', { ca: pki.ca.cert });
        return r.cn === 'httpbin.example.com rotated' ? r : null;
      },
      30_000,
    );
    assert.notEqual(after.serial, before.serial);
    assert.equal(gateway!.child.pid, pid);
    assert.equal(gateway!.child.exitCode, null, 'no restart');
    const r = await curl([
      '--cacert',
      pki.ca.certFile,
      ...resolve('httpbin.example.com', https()),
      `https://httpbin.example.com:${https()}/after-rotation`,
    ]);
    assert.equal(r.status, 200, r.stderr);
  });
});
