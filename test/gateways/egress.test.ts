// Egress through real processes: `mizzen server` and a local-mode `mizzen proxy sidecar` (apps reach it
// as HTTP_PROXY at podIP:15001), plus an egress gateway (`mizzen proxy router`). REGISTRY_ONLY refuses
// unregistered hosts with 502 and lets ServiceEntry hosts through; a 3 s VirtualService timeout on a
// ServiceEntry host turns a 5 s backend delay into 504; TLS origination verifies the CA and SAN (a bad
// SAN fails); traffic routed through the egress gateway reaches the external host from there.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
} from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { TestPki } from '../../src/proxy/tls/test-pki.js';
import {
  freeGatewayOffset,
  tlsProbe,
  startProxy,
  startServer,
  viaProxy,
  waitFor,
  type ProxyProcess,
  type ServerProcess,
} from './harness.js';

/** What the backends saw. */
interface Seen {
  readonly url: string;
  readonly host: string;
  readonly sni: string;
}

function config(o: {
  http: number;
  https: number;
  egress: number;
  ca: string;
  policy: string;
  tlsBackend: number;
  echo: number;
  mtls: number;
  clientCert: string;
  clientKey: string;
  caB64: string;
}): string {
  const external = (name: string, tls: string, port = o.https): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.external.test]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 80, name: http, protocol: HTTP }, { number: 443, name: https, protocol: HTTPS }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port}, https: ${port} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}.external.test]
  http:
    - match: [{ port: 80 }]
      route: [{ destination: { host: ${name}.external.test, port: { number: 443 } } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}.external.test
  trafficPolicy:
    portLevelSettings:
      - port: { number: 443 }
        tls: ${tls}
---
`;
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: default }
spec:
  outboundTrafficPolicy: { mode: ${o.policy} }
  egress:
    - port: { number: 9443, name: tls, protocol: TLS }
      hosts: ["*/*.external.test"]
    - port: { number: 9000, name: tcp, protocol: TCP }
      hosts: ["*/echo.external.test"]
    - hosts: ["*/*"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tlsapi }
spec:
  hosts: [tlsapi.external.test, tls-v2.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 9443, name: tls, protocol: TLS }]
  endpoints: [{ address: 127.0.0.1, ports: { tls: ${o.tlsBackend} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tlsapi }
spec:
  hosts: [tlsapi.external.test]
  tls:
    - match: [{ port: 9443, sniHosts: [tlsapi.external.test] }]
      route: [{ destination: { host: tls-v2.external.test, port: { number: 9443 } } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1, ports: { tcp: ${o.echo} } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo.external.test
  trafficPolicy: { connectionPool: { tcp: { idleTimeout: 1s } } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api }
spec:
  hosts: [api.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${o.http} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api }
spec:
  hosts: [api.external.test]
  http:
    - match: [{ uri: { prefix: /delay } }]
      timeout: 3s
      route: [{ destination: { host: api.external.test } }]
    - match: [{ uri: { prefix: /flaky } }]
      retries: { attempts: 3, retryOn: 5xx }
      route: [{ destination: { host: api.external.test } }]
    - route: [{ destination: { host: api.external.test } }]
---
${external('secure', `{ mode: SIMPLE, caCertificates: ${o.ca}, subjectAltNames: [secure.external.test], sni: secure.external.test }`)}${external('badsan', `{ mode: SIMPLE, caCertificates: ${o.ca}, subjectAltNames: [wrong.external.test] }`)}${external('insecure', '{ mode: SIMPLE, insecureSkipVerify: true }')}${external('osca', '{ mode: SIMPLE }')}${external('mutual', '{ mode: MUTUAL, credentialName: client-credential, sni: secure.external.test }', o.mtls)}apiVersion: v1
kind: Secret
metadata: { name: client-credential, namespace: default }
type: kubernetes.io/tls
data: { tls.crt: ${o.clientCert}, tls.key: ${o.clientKey}, ca.crt: ${o.caB64} }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: edition }
spec:
  hosts: [edition.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${o.http} } }]
---
apiVersion: v1
kind: Service
metadata: { name: istio-egressgateway, namespace: istio-system }
spec:
  selector: { istio: egressgateway }
  ports: [{ name: http, port: 80 }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: egressgateway-0, namespace: istio-system }
spec:
  address: 127.0.0.1
  labels: { istio: egressgateway }
  ports: { http: ${o.egress} }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: istio-egressgateway }
spec:
  selector: { istio: egressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: [edition.external.test]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edition-via-egress }
spec:
  hosts: [edition.external.test]
  gateways: [istio-egressgateway, mesh]
  http:
    - match: [{ gateways: [mesh], port: 80 }]
      route: [{ destination: { host: istio-egressgateway.istio-system.svc.cluster.local, port: { number: 80 } } }]
    - match: [{ gateways: [istio-egressgateway], port: 80 }]
      route: [{ destination: { host: edition.external.test, port: { number: 80 } } }]
`;
}

describe('egress (mizzen server + local-mode sidecar + egress gateway)', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-egress-'));
  const configDir = join(dir, 'config');
  let pki: TestPki;
  let plain: HttpServer;
  let secure: HttpsServer;
  let mutual: HttpsServer;
  let tlsBackend: TlsServer;
  let echo: NetServer;
  const seen: Seen[] = [];
  let server: ServerProcess | undefined;
  let sidecar: ProxyProcess | undefined;
  let egress: ProxyProcess | undefined;
  let offset = 0;
  let settings: Parameters<typeof config>[0];
  // A pod IP of its own, so the sidecar's HTTP proxy port 15001 is free.
  const podIp = `127.1.${200 + Math.floor(Math.random() * 50)}.${10 + Math.floor(Math.random() * 200)}`;
  const proxyAddr = `${podIp}:15001`;

  before(async () => {
    pki = new TestPki();
    const cert = pki.issue('secure', 'secure.external.test', [
      'secure.external.test',
      'badsan.external.test',
      'insecure.external.test',
      'osca.external.test',
    ]);
    const client = pki.issue('client', 'sleep client', ['sleep.default.svc.cluster.local']);
    mutual = createHttpsServer(
      { cert: cert.cert, key: cert.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const s = req.socket as TLSSocket;
        // One request per connection, so every request shows the certificate of a new handshake.
        res.setHeader('connection', 'close');
        res.end(`mutual ${req.url} from ${String(s.getPeerCertificate().subject?.CN ?? '')}`);
      },
    );
    await new Promise<void>((r) => mutual.listen(0, '127.0.0.1', r));
    const b64 = (x: string): string => Buffer.from(x).toString('base64');
    plain = createHttpServer((req, res) => {
      seen.push({ url: req.url ?? '', host: req.headers.host ?? '', sni: '' });
      if (req.url?.startsWith('/flaky') && seen.filter((x) => x.url === req.url).length < 3) {
        res.statusCode = 503;
        res.end('try again');
        return;
      }
      const delay = /^\/delay\/(\d+)/.exec(req.url ?? '');
      const reply = (): void => {
        res.setHeader('content-type', 'text/plain');
        res.end(`plain ${req.url}`);
      };
      if (delay) setTimeout(reply, Number(delay[1]) * 1000);
      else reply();
    });
    secure = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const s = req.socket as TLSSocket;
      seen.push({ url: req.url ?? '', host: req.headers.host ?? '', sni: String(s.servername ?? '') });
      res.end(`secure ${req.url}`);
    });
    const backendCert = pki.issue('tlsapi', 'tls backend', ['tlsapi.external.test', 'tls-v2.external.test']);
    tlsBackend = createTlsServer({ cert: backendCert.cert, key: backendCert.key }, (s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => s.end(`tls backend got ${d.toString()}`));
    });
    echo = createNetServer((s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => s.write(`echo ${d.toString()}`));
    });
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    offset = await freeGatewayOffset([80]);
    settings = {
      http: (plain.address() as AddressInfo).port,
      https: (secure.address() as AddressInfo).port,
      egress: 80 + offset,
      ca: pki.ca.certFile,
      policy: 'REGISTRY_ONLY',
      tlsBackend: (tlsBackend.address() as AddressInfo).port,
      echo: (echo.address() as AddressInfo).port,
      mtls: (mutual.address() as AddressInfo).port,
      clientCert: b64(client.cert),
      clientKey: b64(client.key),
      caB64: b64(pki.ca.cert),
    };
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'mesh.yaml'), config(settings));
    server = await startServer(configDir);
    sidecar = await startProxy({
      kind: 'sidecar',
      xds: server.xds,
      ip: podIp,
      name: 'sleep-0',
      namespace: 'default',
      labels: { app: 'sleep' },
      readyFile: join(dir, 'sidecar-ready.json'),
    });
    egress = await startProxy({
      kind: 'router',
      xds: server.xds,
      ip: '127.0.0.1',
      name: 'istio-egressgateway-0',
      namespace: 'istio-system',
      labels: { istio: 'egressgateway' },
      readyFile: join(dir, 'egress-ready.json'),
      extraMetadata: { MIZZEN_GATEWAY_PORT_OFFSET: String(offset) },
    });
    try {
      await waitFor('the sidecar HTTP proxy listener', () => sidecar!.listeners()[`${podIp}_15001`], 30_000);
      await waitFor(
        'the egress gateway listener',
        () => egress!.listeners()[`0.0.0.0_${80 + offset}`],
        30_000,
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\n--- sidecar ---\n${sidecar.output()}\n--- egress gateway ---\n${egress.output()}\n--- server ---\n${server.stderr()}`,
      );
    }
  });

  after(async () => {
    await sidecar?.stop();
    await egress?.stop();
    await server?.stop();
    plain.close();
    secure.close();
    mutual.close();
    tlsBackend.close();
    echo.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('REGISTRY_ONLY: an unregistered host gets 502, a ServiceEntry host is reached', async () => {
    const blocked = await viaProxy(proxyAddr, 'http://unregistered.example.test/');
    assert.equal(blocked.status, 502);
    const byIp = await viaProxy(proxyAddr, `http://127.0.0.1:${settings.http}/direct`);
    assert.equal(byIp.status, 502, 'an address that is not registered is blocked too');
    assert.ok(!seen.some((s) => s.url === '/direct'));
    const ok = await viaProxy(proxyAddr, 'http://api.external.test/status/200');
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, 'plain /status/200');
  });

  it('a 3 s VirtualService timeout on a ServiceEntry host turns a 5 s delay into 504 UT', async () => {
    const r = await viaProxy(proxyAddr, 'http://api.external.test/delay/5');
    assert.equal(r.status, 504, r.body);
    // The backend answers after 5 s: a 504 with Envoy's timeout body means the route timeout fired first.
    assert.equal(r.body, 'upstream request timeout');
  });

  it('VirtualService retries apply to a ServiceEntry host: two 503s, then 200', async () => {
    const r = await viaProxy(proxyAddr, 'http://api.external.test/flaky/1');
    assert.equal(r.status, 200, r.body);
    assert.equal(seen.filter((x) => x.url === '/flaky/1').length, 3);
  });

  it('TLS origination: plain HTTP from the app leaves as HTTPS verified against the CA and SAN', async () => {
    const r = await viaProxy(proxyAddr, 'http://secure.external.test/get');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'secure /get');
    const s = seen.find((x) => x.url === '/get');
    assert.equal(s?.sni, 'secure.external.test');
    assert.equal(s?.host, 'secure.external.test');
  });

  it('TLS origination with a subjectAltNames entry the server certificate lacks fails (503)', async () => {
    const r = await viaProxy(proxyAddr, 'http://badsan.external.test/get-bad');
    assert.equal(r.status, 503, r.body);
    assert.ok(!seen.some((x) => x.url === '/get-bad'));
  });

  it('insecureSkipVerify connects without a CA; without caCertificates the OS bundle is used (our CA is not in it)', async () => {
    const insecure = await viaProxy(proxyAddr, 'http://insecure.external.test/skip');
    assert.equal(insecure.status, 200, insecure.body);
    const os = await viaProxy(proxyAddr, 'http://osca.external.test/os');
    assert.equal(os.status, 503, os.body);
    assert.ok(!seen.some((x) => x.url === '/os'));
  });

  it('MUTUAL with credentialName: the client certificate and CA come from the Secret over SDS', async () => {
    const r = await viaProxy(proxyAddr, 'http://mutual.external.test/m');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'mutual /m from sleep client');
    // A changed Secret reaches the sidecar too: new connections present the new client certificate.
    const next = pki.issue('client-2', 'rotated client', ['sleep.default.svc.cluster.local']);
    settings = {
      ...settings,
      clientCert: Buffer.from(next.cert).toString('base64'),
      clientKey: Buffer.from(next.key).toString('base64'),
    };
    writeFileSync(join(configDir, 'mesh.yaml'), config(settings));
    await waitFor(
      'the rotated client certificate',
      async () =>
        (await viaProxy(proxyAddr, 'http://mutual.external.test/m2')).body ===
        'mutual /m2 from rotated client',
      30_000,
    );
  });

  it('routed through the egress gateway: the request leaves the mesh from the gateway', async () => {
    const r = await viaProxy(proxyAddr, 'http://edition.external.test/politics');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'plain /politics');
    const stats = await viaProxy(
      `127.0.0.1:${egress!.adminPort()}`,
      `http://127.0.0.1:${egress!.adminPort()}/stats`,
    );
    assert.match(stats.body, /^cluster\.outbound\|80\|\|edition\.external\.test\.upstream_rq_total: [1-9]/m);
  });

  it('Sidecar egress TLS listener: tls rules route by SNI without terminating (the backend certificate arrives)', async () => {
    await waitFor('the egress listeners', () => sidecar!.listeners()[`${podIp}_9443`], 30_000);
    const r = await tlsProbe(9443, 'tlsapi.external.test', { ca: pki.ca.cert, send: 'hello', host: podIp });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.cn, 'tls backend');
    assert.equal(r.data, 'tls backend got hello');
    const stats = await viaProxy(
      `127.0.0.1:${sidecar!.adminPort()}`,
      `http://127.0.0.1:${sidecar!.adminPort()}/stats`,
    );
    assert.match(
      stats.body,
      /^cluster\.outbound\|9443\|\|tls-v2\.external\.test\.upstream_cx_total: [1-9]/m,
      'the tls rule sent it to tls-v2',
    );
    const unknown = await tlsProbe(9443, 'other.example.org', { ca: pki.ca.cert, host: podIp });
    assert.equal(unknown.ok, false, 'REGISTRY_ONLY: an SNI no service claims goes to the BlackHoleCluster');
  });

  it('Sidecar egress TCP listener: tcp_proxy to the ServiceEntry, closed after the 1 s idle timeout', async () => {
    const { data } = await new Promise<{ data: string }>((resolve, reject) => {
      const s = netConnect(9000, podIp);
      let d = '';
      s.on('data', (b: Buffer) => (d += b.toString()));
      s.on('close', () => resolve({ data: d }));
      s.on('error', reject);
      s.write('ping');
    });
    assert.equal(data, 'echo ping');
    const stats = await viaProxy(
      `127.0.0.1:${sidecar!.adminPort()}`,
      `http://127.0.0.1:${sidecar!.adminPort()}/stats`,
    );
    assert.match(stats.body, /^cluster\.outbound\|9000\|\|echo\.external\.test\.upstream_cx_total: [1-9]/m);
    assert.match(stats.body, /^tcp\.outbound\|9000\|\|echo\.external\.test\.idle_timeout: [1-9]/m);
  });

  it('ALLOW_ANY: the same unregistered address is passed through to where the app asked', async () => {
    writeFileSync(join(configDir, 'mesh.yaml'), config({ ...settings, policy: 'ALLOW_ANY' }));
    const r = await waitFor(
      'passthrough after the policy change',
      async () => {
        const x = await viaProxy(proxyAddr, `http://127.0.0.1:${settings.http}/direct`);
        return x.status === 200 ? x : null;
      },
      30_000,
    );
    assert.equal(r.body, 'plain /direct');
  });
});
