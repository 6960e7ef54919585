// Mutual TLS between two real sidecars: a real `mizzen server` (CA on its xDS port) and real
// `mizzen proxy` processes that get their certificates by CSR. The server sidecar is reached through a
// recording relay, so the test sees the bytes on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor, type ServerProcess } from '../cli/server-test-util.js';
import { spawnProxy, startBackend, type Backend, type ProxyChild } from '../proxy/test-util.js';
import { CaServiceClient, type CertificateResponse } from '../xds/ca-service.js';
import { EC_P256, generateEcKeyPair, x509 } from '../xds/x509.js';
import { ensureLocalTokenKey, issueLocalToken } from './token.js';

/** A /24 of loopback addresses for this run (other test files use other ones). */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
const APP_IP = `${NET}.1`;
const SIDECAR_IP = `${NET}.2`;
const RELAY_IP = `${NET}.3`;
const SLEEP_IP = `${NET}.4`;

interface Relay {
  readonly server: Server;
  /** The first chunk of every connection, client to server. */
  readonly firstChunks: Buffer[];
  /** Everything sent client to server. */
  bytes(): Buffer;
}

/** A TCP relay RELAY_IP:port → SIDECAR_IP:port that records what the client sends. */
async function startRelay(port: number): Promise<Relay> {
  const firstChunks: Buffer[] = [];
  const all: Buffer[] = [];
  const server = createServer((c: Socket) => {
    const up = connect({ host: SIDECAR_IP, port });
    let first = true;
    c.on('data', (d: Buffer) => {
      if (first) firstChunks.push(d);
      first = false;
      all.push(d);
      up.write(d);
    });
    up.on('data', (d: Buffer) => c.write(d));
    c.on('end', () => up.end());
    up.on('end', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(port, RELAY_IP, r));
  return { server, firstChunks, bytes: () => Buffer.concat(all) };
}

function manifests(port: number): string {
  const pod = (name: string, sa: string, ip: string, ports: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}-0
  namespace: foo
  labels: { app: ${name}, security.istio.io/tlsMode: istio }
spec:
  serviceAccountName: ${sa}
  containers: [{ name: ${name}${ports} }]
status: { phase: Running, podIP: ${ip}, conditions: [{ type: Ready, status: "True" }] }
`;
  return [
    `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { app: httpbin }
  ports: [{ name: http, port: 8000, targetPort: ${port} }]
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: foo }
spec:
  host: httpbin.foo.svc.cluster.local
  trafficPolicy:
    connectionPool: { http: { maxRequestsPerConnection: 1 } }
`,
    // The Pod's IP is the relay's: clients connect there, the relay forwards to the sidecar.
    pod('httpbin', 'httpbin', RELAY_IP, `, ports: [{ containerPort: ${port} }]`),
    pod('sleep', 'sleep', SLEEP_IP, ''),
  ].join('---\n');
}

async function sidecar(
  xds: string,
  dir: string,
  name: string,
  sa: string,
  ip: string,
  token: string,
  extra: string[] = [],
): Promise<ProxyChild> {
  const tokenFile = join(dir, `${name}.jwt`);
  writeFileSync(tokenFile, token);
  const metadata = {
    NAMESPACE: 'foo',
    SERVICE_ACCOUNT: sa,
    LABELS: { app: name },
    INSTANCE_IPS: ip,
    INTERCEPTION_MODE: 'NONE',
    MIZZEN_APP_HOST: APP_IP,
  };
  return spawnProxy(
    [
      'sidecar',
      '--xds-address',
      xds,
      '--id',
      `sidecar~${ip}~${name}-0.foo~foo.svc.cluster.local`,
      '--metadata',
      JSON.stringify(metadata),
      '--admin-port',
      '0',
      '--token-file',
      tokenFile,
      ...extra,
    ],
    join(dir, `${name}.ready`),
  );
}

/** GET through the sleep sidecar's HTTP proxy port (as the sleep app with HTTP_PROXY would). */
function viaSleep(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: SLEEP_IP, port: 15001, path: `http://httpbin.foo:8000${path}`, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A plaintext GET straight to the httpbin pod (a client without a sidecar); null when refused. */
function plaintext(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: RELAY_IP, port, path: '/ip', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(null));
    req.setTimeout(5000, () => req.destroy());
    req.end();
  });
}

interface Mesh {
  dir: string;
  server: ServerProcess;
  backend: Backend;
  relay: Relay;
  port: number;
  caDir: string;
  tokens: { sleep: string; httpbin: string };
  proxies: ProxyChild[];
  close(): Promise<void>;
}

async function startMesh(extra: string[] = [], moreYaml = ''): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-mtls-'));
  const backend = await startBackend('httpbin');
  // The app must listen at the app IP on the service's target port: take a free one there.
  await new Promise<void>((r) => backend.server.close(() => r()));
  await new Promise<void>((r) => backend.server.listen(0, APP_IP, r));
  const port = (backend.server.address() as AddressInfo).port;
  const relay = await startRelay(port);
  const configDir = join(dir, 'config');
  const caDir = join(dir, 'ca');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'mesh.yaml'), manifests(port) + (moreYaml ? `---\n${moreYaml}` : ''));
  let server: ServerProcess;
  try {
    server = await startServer(configDir, ['--ca-dir', caDir]);
  } catch (e) {
    relay.server.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const key = ensureLocalTokenKey(caDir);
  const tokens = {
    sleep: await issueLocalToken(key, { namespace: 'foo', serviceAccount: 'sleep', pod: 'sleep-0' }),
    httpbin: await issueLocalToken(key, { namespace: 'foo', serviceAccount: 'httpbin', pod: 'httpbin-0' }),
  };
  const proxies: ProxyChild[] = [];
  const mesh: Mesh = {
    dir,
    server,
    backend,
    relay,
    port,
    caDir,
    tokens,
    proxies,
    close: async () => {
      for (const p of proxies) p.child.kill('SIGTERM');
      await Promise.all(proxies.map((p) => p.exited));
      await server.stop();
      relay.server.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    proxies.push(await sidecar(server.xds, dir, 'httpbin', 'httpbin', SIDECAR_IP, tokens.httpbin, extra));
    proxies.push(await sidecar(server.xds, dir, 'sleep', 'sleep', SLEEP_IP, tokens.sleep, extra));
  } catch (e) {
    await mesh.close();
    throw e;
  }
  return mesh;
}

test('sidecars talk Istio mutual TLS; PERMISSIVE, STRICT and port-level DISABLE decide what plaintext gets', async () => {
  const m = await startMesh();
  try {
    const r = await waitFor(
      'a 200 through both sidecars',
      async () => {
        const x = await viaSleep('/headers').catch(() => null);
        return x?.status === 200 ? x : null;
      },
      60_000,
    );
    // The server-side app sees the client's SPIFFE id (x-forwarded-client-cert, as Istio's sidecars set it).
    const seen = m.backend.seen[m.backend.seen.length - 1];
    assert.match(
      String(seen.headers['x-forwarded-client-cert']),
      /URI=spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/,
    );
    assert.match(r.body, /"name":"httpbin"/);
    // Istio's source-side metrics name both identities of the upstream mutual TLS connection (Envoy's
    // uri_san_local_certificate / uri_san_peer_certificate); plaintext would say unknown.
    const sleepAdmin = m.proxies[1].ports.adminPort;
    await waitFor(
      "the sleep sidecar's istio_requests_total with both principals",
      async () => {
        const body = await fetch(`http://127.0.0.1:${sleepAdmin}/stats/prometheus`).then((x) => x.text());
        return /^istio_requests_total\{reporter="source",[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep"[^}]*destination_principal="spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin"[^}]*response_code="200"/m.test(
          body,
        );
      },
      10_000,
    );
    // What crossed the wire was TLS (a handshake record), never the request in clear.
    assert.ok(m.relay.firstChunks.length > 0);
    for (const c of m.relay.firstChunks) assert.equal(c[0], 0x16, 'a TLS handshake record');
    assert.ok(!m.relay.bytes().includes(Buffer.from('/headers')), 'the request path is not in clear');

    // PERMISSIVE (no policy): a client without a sidecar still gets through, with no identity.
    const before = m.backend.seen.length;
    assert.equal(await plaintext(m.port), 200);
    assert.equal(m.backend.seen[before].headers['x-forwarded-client-cert'], undefined);

    // STRICT for the namespace: plaintext is refused, the sidecar client keeps working.
    writeFileSync(
      join(m.dir, 'config', 'pa.yaml'),
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`,
    );
    await waitFor('plaintext refused under STRICT', async () => (await plaintext(m.port)) === null, 30_000);
    assert.equal((await viaSleep('/headers')).status, 200);

    // Workload-level port DISABLE re-opens that port to plaintext.
    writeFileSync(
      join(m.dir, 'config', 'pa-port.yaml'),
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  mtls: { mode: STRICT }
  portLevelMtls: { "${m.port}": { mode: DISABLE } }
`,
    );
    await waitFor(
      'plaintext accepted on the DISABLE port',
      async () => (await plaintext(m.port)) === 200,
      30_000,
    );
    // Auto mTLS follows: the client now sends plaintext to that port, and still gets through.
    await waitFor(
      'sleep still reaches httpbin',
      async () => (await viaSleep('/headers')).status === 200,
      30_000,
    );
  } finally {
    await m.close();
  }
});

test("a MeshConfig trustDomain is every workload's SPIFFE trust domain; proxies need no flag for it", async () => {
  // Proxies ask for spiffe://cluster.local/... (their default, as `mizzen up` starts them); the CA
  // issues the mesh's trust domain, and the client sidecar verifies the server under it.
  const m = await startMesh(
    [],
    `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
    trustDomain: corp.example
`,
  );
  try {
    await waitFor(
      'a 200 through both sidecars',
      async () => (await viaSleep('/headers').catch(() => null))?.status === 200,
      60_000,
    );
    const seen = m.backend.seen[m.backend.seen.length - 1];
    assert.match(
      String(seen.headers['x-forwarded-client-cert']),
      /URI=spiffe:\/\/corp\.example\/ns\/foo\/sa\/sleep/,
    );
    for (const c of m.relay.firstChunks) assert.equal(c[0], 0x16, 'a TLS handshake record');
  } finally {
    await m.close();
  }
});

test('the CA refuses a CSR for another identity than the token proves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-ca-'));
  const server = await startServer(dir, ['--ca-dir', join(dir, 'ca')]).catch((e: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const client = new CaServiceClient(server.xds, grpc.credentials.createInsecure()) as any;
  try {
    const key = ensureLocalTokenKey(join(dir, 'ca'));
    const token = await issueLocalToken(key, { namespace: 'foo', serviceAccount: 'sleep', pod: 'sleep-0' });
    const call = async (identity: string, tok: string): Promise<{ code: number; chain: string[] }> => {
      const keys = await generateEcKeyPair();
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        keys,
        signingAlgorithm: EC_P256,
        extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }])],
      });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${tok}`);
      return new Promise((resolve) =>
        client.CreateCertificate(
          { csr: csr.toString('pem'), validityDuration: 60 },
          md,
          (err: grpc.ServiceError | null, res: CertificateResponse) =>
            resolve({ code: err ? err.code : 0, chain: res?.certChain ?? [] }),
        ),
      );
    };
    const own = await call('spiffe://cluster.local/ns/foo/sa/sleep', token);
    assert.equal(own.code, grpc.status.OK);
    assert.equal(own.chain.length, 2);
    assert.equal(
      (await call('spiffe://cluster.local/ns/foo/sa/httpbin', token)).code,
      grpc.status.PERMISSION_DENIED,
    );
    assert.equal(
      (await call('spiffe://cluster.local/ns/foo/sa/sleep', 'not-a-token')).code,
      grpc.status.UNAUTHENTICATED,
    );
    assert.match(
      server.stderr(),
      /refused a CSR from spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep: the CSR asks for spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin/,
    );
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The serial of the workload certificate a proxy serves now (its `default` secret's version). */
async function servingSerial(p: ProxyChild): Promise<string> {
  const dump = (await fetch(`http://127.0.0.1:${p.ports.adminPort}/config_dump`).then((r) => r.json())) as {
    configs: Array<{ dynamicActiveSecrets?: Array<{ name: string; versionInfo: string }> }>;
  };
  for (const c of dump.configs)
    for (const s of c.dynamicActiveSecrets ?? []) if (s.name === 'default') return s.versionInfo;
  return '';
}

test('certificates rotated under a steady request loop lose no request', async () => {
  // A 6 s lifetime renewed at half of it; every request opens a new mTLS connection (maxRequestsPerConnection 1).
  const m = await startMesh(['--cert-ttl', '6s', '--cert-rotation-fraction', '0.5']);
  try {
    await waitFor(
      'a first 200',
      async () => (await viaSleep('/get').catch(() => null))?.status === 200,
      60_000,
    );
    const serials = { httpbin: new Set<string>(), sleep: new Set<string>() };
    const codes: Record<string, number> = {};
    // Bounded: at most 3000 requests or 40 s, and stop once each side has rotated twice.
    const deadline = Date.now() + 40_000;
    for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
      const r = await viaSleep('/get').catch((e: Error) => ({ status: 0, body: e.message }));
      codes[r.status] = (codes[r.status] ?? 0) + 1;
      if (i % 10 === 0) {
        serials.httpbin.add(await servingSerial(m.proxies[0]));
        serials.sleep.add(await servingSerial(m.proxies[1]));
        if (serials.httpbin.size >= 3 && serials.sleep.size >= 3) break;
      }
    }
    assert.ok(serials.httpbin.size >= 3, `the server sidecar rotated twice (${[...serials.httpbin]})`);
    assert.ok(serials.sleep.size >= 3, `the client sidecar rotated twice (${[...serials.sleep]})`);
    assert.deepEqual(Object.keys(codes), ['200'], `every request succeeded: ${JSON.stringify(codes)}`);
  } finally {
    await m.close();
  }
});
