// Istio's TCP metadata exchange between two real sidecars over mutual TLS: a real `mizzen server` (its
// CA issues the certificates) and two `mizzen proxy` processes carrying raw TCP from a client to an echo
// app. Each side's istio_tcp_* series name the other workload; the app sees exactly its bytes; hostile
// and non-Istio TLS peers are handled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { get as httpGet } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor, type ServerProcess } from '../../../cli/server-test-util.js';
import { spawnProxy, type ProxyChild } from '../../test-util.js';
import { CaServiceClient, type CertificateResponse } from '../../../xds/ca-service.js';
import { EC_P256, generateEcKeyPair, x509 } from '../../../xds/x509.js';
import { ensureLocalTokenKey, issueLocalToken } from '../../../ca/token.js';
import { decodeExchangeData, EXCHANGE_MAGIC } from './exchange-header.js';

const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
const APP_IP = `${NET}.1`;
const ECHO_IP = `${NET}.2`;
const SLEEP_IP = `${NET}.4`;
const SVC_PORT = 9000;

/** An echo app that records the bytes of every connection. */
interface Echo {
  readonly server: Server;
  readonly port: number;
  /** What each connection received, in accept order (complete once the connection closed). */
  readonly received: Buffer[][];
  readonly closed: number[];
}

async function startEcho(): Promise<Echo> {
  const received: Buffer[][] = [];
  const closed: number[] = [];
  const server = createServer({ allowHalfOpen: true }, (c: Socket) => {
    const i = received.length;
    const mine: Buffer[] = [];
    received.push(mine);
    c.on('data', (d: Buffer) => {
      mine.push(d);
      c.write(d);
    });
    c.on('end', () => c.end());
    c.on('error', () => c.destroy());
    c.on('close', () => closed.push(i));
  });
  await new Promise<void>((r) => server.listen(0, APP_IP, r));
  return { server, port: (server.address() as AddressInfo).port, received, closed };
}

function manifests(appPort: number): string {
  const pod = (
    name: string,
    workload: string,
    sa: string,
    ip: string,
    ports: string,
  ): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${workload}-0
  namespace: foo
  labels: { app: ${name}, version: v1, security.istio.io/tlsMode: istio }
spec:
  serviceAccountName: ${sa}
  containers: [{ name: ${name}${ports} }]
status: { phase: Running, podIP: ${ip}, conditions: [{ type: Ready, status: "True" }] }
`;
  return [
    `apiVersion: v1
kind: Service
metadata: { name: echo, namespace: foo }
spec:
  selector: { app: echo }
  ports: [{ name: tcp, port: ${SVC_PORT}, targetPort: ${appPort} }]
`,
    // The client app reaches the service at its own sidecar's egress listener (nothing is captured).
    `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: sleep, namespace: foo }
spec:
  workloadSelector: { labels: { app: sleep } }
  egress:
  - port: { number: ${SVC_PORT}, protocol: TCP, name: tcp }
    hosts: ["foo/*"]
`,
    pod('echo', 'echo-v1', 'echo', ECHO_IP, `, ports: [{ containerPort: ${appPort} }]`),
    pod('sleep', 'sleep', 'sleep', SLEEP_IP, ''),
  ].join('---\n');
}

async function sidecar(
  xds: string,
  dir: string,
  app: string,
  workload: string,
  ip: string,
  token: string,
): Promise<ProxyChild> {
  const tokenFile = join(dir, `${workload}.jwt`);
  writeFileSync(tokenFile, token);
  const metadata = {
    NAME: `${workload}-0`,
    NAMESPACE: 'foo',
    WORKLOAD_NAME: workload,
    SERVICE_ACCOUNT: app,
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app, version: 'v1' },
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
      `sidecar~${ip}~${workload}-0.foo~foo.svc.cluster.local`,
      '--metadata',
      JSON.stringify(metadata),
      '--admin-port',
      '0',
      '--token-file',
      tokenFile,
    ],
    join(dir, `${workload}.ready`),
  );
}

/** Sends `data` on a new connection to `host:port`, half-closes, and resolves with everything read back. */
function roundTrip(host: string, port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = connect({ host, port, allowHalfOpen: true });
    const got: Buffer[] = [];
    c.on('connect', () => c.end(data));
    c.on('data', (d: Buffer) => got.push(d));
    c.on('end', () => resolve(Buffer.concat(got)));
    c.on('error', reject);
    c.setTimeout(10_000, () => c.destroy(new Error('timeout')));
  });
}

/** Sum of a metric's series (Prometheus text) whose labels include every `label="value"` given. */
async function metric(p: ProxyChild, name: string, labels: string[]): Promise<number> {
  const body = await new Promise<string>((resolve, reject) =>
    httpGet(
      { host: '127.0.0.1', port: p.ports.adminPort, path: '/stats/prometheus', agent: false },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      },
    ).on('error', reject),
  );
  let total = 0;
  for (const line of body.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      if (labels.every((l) => line.includes(l))) total += Number(line.split(' ').pop());
  return total;
}

/** A certificate for spiffe://cluster.local/ns/foo/sa/sleep from the mesh CA (a hand-made mesh client). */
async function meshClientCert(server: ServerProcess, token: string): Promise<{ key: string; cert: string }> {
  const client = new CaServiceClient(server.xds, grpc.credentials.createInsecure()) as any;
  try {
    const keys = await generateEcKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: EC_P256,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: 'spiffe://cluster.local/ns/foo/sa/sleep' },
        ]),
      ],
    });
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const chain = await new Promise<string[]>((resolve, reject) =>
      client.CreateCertificate(
        { csr: csr.toString('pem'), validityDuration: 600 },
        md,
        (err: grpc.ServiceError | null, res: CertificateResponse) =>
          err ? reject(err) : resolve(res.certChain),
      ),
    );
    const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
    const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
    return { key, cert: chain.join('\n') };
  } finally {
    client.close();
  }
}

/**
 * A TLS connection to the echo sidecar's inbound port with `alpn`; sends `first`, then half-closes.
 * Resolves with what came back and whether the proxy closed before anything came back.
 */
function rawTls(
  port: number,
  creds: { key: string; cert: string },
  alpn: string[] | undefined,
  first: Buffer,
): Promise<{ alpn: string | false; got: Buffer }> {
  return new Promise((resolve) => {
    const c = tlsConnect({
      host: ECHO_IP,
      port,
      key: creds.key,
      cert: creds.cert,
      ALPNProtocols: alpn,
      rejectUnauthorized: false,
    });
    const got: Buffer[] = [];
    c.on('secureConnect', () => c.end(first));
    c.on('data', (d: Buffer) => got.push(d));
    c.on('close', () => resolve({ alpn: c.alpnProtocol ?? false, got: Buffer.concat(got) }));
    // A refused handshake or a reset shows as what came back (nothing) and no ALPN.
    c.on('error', () => undefined);
    c.setTimeout(10_000, () => c.destroy());
  });
}

describe('istio.metadata_exchange between two real sidecars over mutual TLS', { timeout: 180_000 }, () => {
  let dir = '';
  let server: ServerProcess | undefined;
  let echo: Echo | undefined;
  let echoProxy: ProxyChild | undefined;
  let sleepProxy: ProxyChild | undefined;
  let token = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-mx-'));
    echo = await startEcho();
    const configDir = join(dir, 'config');
    const caDir = join(dir, 'ca');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'mesh.yaml'), manifests(echo.port));
    server = await startServer(configDir, ['--ca-dir', caDir]);
    const key = ensureLocalTokenKey(caDir);
    token = await issueLocalToken(key, { namespace: 'foo', serviceAccount: 'sleep', pod: 'sleep-0' });
    const echoToken = await issueLocalToken(key, {
      namespace: 'foo',
      serviceAccount: 'echo',
      pod: 'echo-v1-0',
    });
    echoProxy = await sidecar(server.xds, dir, 'echo', 'echo-v1', ECHO_IP, echoToken);
    sleepProxy = await sidecar(server.xds, dir, 'sleep', 'sleep', SLEEP_IP, token);
  });

  after(async () => {
    for (const p of [echoProxy, sleepProxy]) p?.child.kill('SIGTERM');
    for (const p of [echoProxy, sleepProxy]) if (p) await p.exited;
    await server?.stop();
    echo?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("both sides' TCP metrics name the peer workload, and the app sees exactly its bytes", async () => {
    const e = echo!;
    const payload = Buffer.from('hello over raw TCP\n\u0000\u0001binary\u00ff tail');
    const back = await waitFor(
      'an echo through both sidecars',
      async () => {
        const b = await roundTrip(SLEEP_IP, SVC_PORT, payload).catch(() => null);
        return b !== null && b.length > 0 ? b : null;
      },
      60_000,
    );
    assert.deepEqual(back, payload, 'the client gets exactly what the app echoed');
    await waitFor('the app saw the connection close', async () => e.closed.length > 0, 10_000);
    for (const i of e.closed)
      assert.deepEqual(Buffer.concat(e.received[i]), payload, 'no exchange bytes reach the app');

    const dst = ['reporter="destination"', 'source_workload="sleep"', 'source_app="sleep"'];
    await waitFor(
      'the destination counted the connection with the source workload',
      async () => (await metric(echoProxy!, 'istio_tcp_connections_closed_total', dst)) >= 1,
      30_000,
    );
    assert.ok((await metric(echoProxy!, 'istio_tcp_connections_opened_total', dst)) >= 1);
    assert.ok(
      (await metric(echoProxy!, 'istio_tcp_connections_opened_total', [
        ...dst,
        'source_workload_namespace="foo"',
        'source_version="v1"',
        'source_cluster="Kubernetes"',
        'destination_workload="echo-v1"',
        'source_principal="spiffe://cluster.local/ns/foo/sa/sleep"',
      ])) >= 1,
    );
    // Bytes are the app's only: the exchange header each way is not counted.
    assert.equal(
      await metric(echoProxy!, 'istio_tcp_received_bytes_total', dst),
      payload.length * (await metric(echoProxy!, 'istio_tcp_connections_closed_total', dst)),
    );
    const src = ['reporter="source"', 'destination_workload="echo-v1"', 'destination_app="echo"'];
    await waitFor(
      'the source counted the connection with the destination workload',
      async () => (await metric(sleepProxy!, 'istio_tcp_connections_closed_total', src)) >= 1,
      30_000,
    );
    assert.ok(
      (await metric(sleepProxy!, 'istio_tcp_sent_bytes_total', [
        ...src,
        'destination_version="v1"',
        'destination_workload_namespace="foo"',
        'source_workload="sleep"',
      ])) >= payload.length,
    );
    // The source side names both identities from its upstream mutual TLS connection, as Envoy's
    // uri_san_local_certificate / uri_san_peer_certificate (it reported unknown before).
    assert.ok(
      (await metric(sleepProxy!, 'istio_tcp_connections_opened_total', [
        ...src,
        'source_principal="spiffe://cluster.local/ns/foo/sa/sleep"',
        'destination_principal="spiffe://cluster.local/ns/foo/sa/echo"',
      ])) >= 1,
    );
    assert.equal(
      await metric(sleepProxy!, 'istio_tcp_connections_opened_total', ['destination_workload="unknown"']),
      0,
    );
    assert.ok((await metric(echoProxy!, 'envoy_metadata_exchange_alpn_protocol_found', [])) >= 1);
    assert.ok((await metric(sleepProxy!, 'envoy_metadata_exchange_metadata_added', [])) >= 1);
  });

  it("a peer's oversized header closes that connection; a wrong magic passes unchanged; the proxy stays up", async () => {
    const e = echo!;
    const creds = await meshClientCert(server!, token);
    // Oversized: magic right, data size 4 GiB - 1. The proxy must neither wait for nor buffer it.
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(EXCHANGE_MAGIC, 0);
    huge.writeUInt32BE(0xffffffff, 4);
    const before = e.received.length;
    const r1 = await rawTls(e.port, creds, ['istio-peer-exchange'], Buffer.concat([huge, Buffer.from('x')]));
    assert.equal(r1.alpn, 'istio-peer-exchange');
    // What came back is the proxy's own exchange only (then the close): Istio's header, echo-v1's metadata.
    assert.ok(r1.got.length >= 8, 'the proxy sent its header first');
    assert.equal(r1.got.readUInt32BE(0), EXCHANGE_MAGIC);
    const size = r1.got.readUInt32BE(4);
    assert.equal(r1.got.length, 8 + size, 'nothing but the header came back');
    const peer = decodeExchangeData(r1.got.subarray(8));
    assert.equal(peer?.metadata.WORKLOAD_NAME, 'echo-v1');
    assert.deepEqual(peer?.metadata.LABELS, { app: 'echo', version: 'v1' });
    assert.match(peer?.id ?? '', /^sidecar~.*echo-v1-0\.foo/);
    assert.ok((await metric(echoProxy!, 'envoy_metadata_exchange_header_not_found', [])) >= 1);

    // A wrong magic: no metadata, and every byte reaches the app as sent.
    const garbage = Buffer.from('GARBAGE!not an exchange header');
    const r2 = await rawTls(e.port, creds, ['istio-peer-exchange'], garbage);
    assert.deepEqual(r2.got.subarray(r2.got.length - garbage.length), garbage, 'echoed unchanged');
    assert.ok((await metric(echoProxy!, 'envoy_metadata_exchange_initial_header_not_found', [])) >= 1);

    // A mesh TLS client without the exchange ALPN (Istio's PILOT_DISABLE_MX_ALPN offers only "istio"):
    // the handshake succeeds as with Envoy, nothing is exchanged, bytes pass both ways unchanged.
    const plain = Buffer.from('no exchange alpn here');
    const r3 = await rawTls(e.port, creds, ['istio'], plain);
    assert.notEqual(r3.alpn, 'istio-peer-exchange');
    assert.deepEqual(r3.got, plain);
    assert.ok((await metric(echoProxy!, 'envoy_metadata_exchange_alpn_protocol_not_found', [])) >= 1);
    const seen = e.received.slice(before).map((c) => Buffer.concat(c).toString('latin1'));
    assert.ok(
      !seen.includes('x') && !seen.some((s) => s.includes(huge.toString('latin1'))),
      JSON.stringify(seen),
    );
    assert.ok(seen.includes(garbage.toString()) && seen.includes(plain.toString()), JSON.stringify(seen));

    // Still serving: the sidecar-to-sidecar path works after all of that.
    const again = await roundTrip(SLEEP_IP, SVC_PORT, Buffer.from('still there'));
    assert.equal(again.toString(), 'still there');
  });
});
