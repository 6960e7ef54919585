// Proxyless gRPC with Istio mutual TLS, all real processes: `mizzen server` (with its CA), `mizzen
// agent` writing the gRPC bootstrap and the client's certificate files, a grpc-js-xds client with
// XdsChannelCredentials, and a gRPC server behind a `mizzen proxy` sidecar under PeerAuthentication
// STRICT. Own file: grpc-js-xds reads its bootstrap from the environment once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor } from '../cli/server-test-util.js';
import { BIN } from '../cli/test-util.js';
import { spawnProxy, type ProxyChild } from '../proxy/test-util.js';
import { ensureLocalTokenKey, issueLocalToken } from '../ca/token.js';

/** A /24 of loopback addresses for this run (other test files use other ones). */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
const APP_IP = `${NET}.1`;
const SIDECAR_IP = `${NET}.2`;
const CLIENT_IP = `${NET}.3`;
const TARGET = 'xds:///helloworld.foo.svc.cluster.local:7070';
const CLIENT_ID = 'spiffe://cluster.local/ns/foo/sa/client';

interface Hello {
  name: string;
  /** The x-forwarded-client-cert the server app received. */
  xfcc?: string;
}

const codec = {
  serialize: (v: Hello): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): Hello => JSON.parse(b.toString()) as Hello,
};

const greeter: grpc.ServiceDefinition = {
  SayHello: {
    path: '/helloworld.Greeter/SayHello',
    requestStream: false,
    responseStream: false,
    requestSerialize: codec.serialize,
    requestDeserialize: codec.deserialize,
    responseSerialize: codec.serialize,
    responseDeserialize: codec.deserialize,
  },
};
const Greeter = grpc.makeGenericClientConstructor(greeter, 'Greeter');

/** The helloworld app: plaintext gRPC at APP_IP, answering with the XFCC its sidecar added. */
async function startApp(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(greeter, {
    SayHello: (call: grpc.ServerUnaryCall<Hello, Hello>, cb: grpc.sendUnaryData<Hello>) =>
      cb(null, {
        name: call.request.name,
        xfcc: String(call.metadata.get('x-forwarded-client-cert')[0] ?? ''),
      }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${APP_IP}:0`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}

const manifests = (port: number): string => `apiVersion: v1
kind: Service
metadata: { name: helloworld, namespace: foo }
spec:
  selector: { app: helloworld }
  ports: [{ name: grpc, port: 7070, targetPort: ${port} }]
---
apiVersion: v1
kind: Pod
metadata: { name: helloworld-0, namespace: foo, labels: { app: helloworld, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: helloworld, containers: [{ name: helloworld, ports: [{ containerPort: ${port} }] }] }
status: { phase: Running, podIP: ${SIDECAR_IP}, conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client-0, namespace: foo, labels: { app: client } }
spec: { serviceAccountName: client, containers: [{ name: client }] }
status: { phase: Running, podIP: ${CLIENT_IP}, conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: helloworld, namespace: foo }
spec:
  host: helloworld.foo.svc.cluster.local
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`;

function call(client: grpc.Client, timeoutMs = 5000): Promise<Hello> {
  return new Promise((resolve, reject) => {
    (client as any).SayHello(
      { name: 'mizzen' },
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, res: Hello) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** The call's gRPC status code (0 = OK). */
const codeOf = (client: grpc.Client): Promise<number> =>
  call(client).then(
    () => 0,
    (e: grpc.ServiceError) => e.code,
  );

/** The serial of the leaf in a PEM chain file. */
const serialOf = (file: string): string => new X509Certificate(readFileSync(file)).serialNumber;

test('proxyless gRPC client with XdsChannelCredentials and mizzen agent certificates reaches a STRICT sidecar; plaintext is refused', async () => {
  const app = await startApp();
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-grpc-mtls-'));
  const configDir = join(dir, 'config');
  const caDir = join(dir, 'ca');
  const certs = join(dir, 'certs');
  const bootstrapFile = join(dir, 'grpc-bootstrap.json');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'mesh.yaml'), manifests(app.port));
  const server = await startServer(configDir, ['--ca-dir', caDir]);
  const key = ensureLocalTokenKey(caDir);
  const token = (sa: string, pod: string): Promise<string> =>
    issueLocalToken(key, { namespace: 'foo', serviceAccount: sa, pod });
  writeFileSync(join(dir, 'helloworld.jwt'), await token('helloworld', 'helloworld-0'));
  writeFileSync(join(dir, 'client.jwt'), await token('client', 'client-0'));

  let sidecar: ProxyChild | null = null;
  let agentErr = '';
  const agent = spawn(
    process.execPath,
    [
      BIN,
      'agent',
      '--xds-address',
      server.xds,
      '--id',
      `sidecar~${CLIENT_IP}~client-0.foo~foo.svc.cluster.local`,
      '--metadata',
      JSON.stringify({ NAMESPACE: 'foo', SERVICE_ACCOUNT: 'client', INSTANCE_IPS: CLIENT_IP }),
      '--token-file',
      join(dir, 'client.jwt'),
      '--output-certs',
      certs,
      '--grpc-bootstrap',
      bootstrapFile,
      '--cert-ttl',
      '20s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  agent.stderr.on('data', (d: Buffer) => (agentErr += d.toString()));
  const agentExited = new Promise<void>((r) => agent.once('exit', () => r()));
  const clients: grpc.Client[] = [];
  const diagnostics = (): string => `agent:\n${agentErr}\nserver:\n${server.stderr()}`;
  try {
    sidecar = await spawnProxy(
      [
        'sidecar',
        '--xds-address',
        server.xds,
        '--id',
        `sidecar~${SIDECAR_IP}~helloworld-0.foo~foo.svc.cluster.local`,
        '--metadata',
        JSON.stringify({
          NAMESPACE: 'foo',
          SERVICE_ACCOUNT: 'helloworld',
          LABELS: { app: 'helloworld' },
          INSTANCE_IPS: SIDECAR_IP,
          INTERCEPTION_MODE: 'NONE',
          MIZZEN_APP_HOST: APP_IP,
        }),
        '--admin-port',
        '0',
        '--token-file',
        join(dir, 'helloworld.jwt'),
      ],
      join(dir, 'helloworld.ready'),
    );

    // The agent writes the bootstrap once the certificate is in place, with Istio's provider `default`.
    await waitFor('the agent to write the bootstrap', () => existsSync(bootstrapFile), 30_000).catch(
      (e: Error) => assert.fail(`${e.message}\n${diagnostics()}`),
    );
    const bootstrap = JSON.parse(readFileSync(bootstrapFile, 'utf8'));
    assert.deepEqual(bootstrap.certificate_providers.default, {
      plugin_name: 'file_watcher',
      config: {
        certificate_file: join(certs, 'cert-chain.pem'),
        private_key_file: join(certs, 'key.pem'),
        ca_certificate_file: join(certs, 'root-cert.pem'),
        refresh_interval: '2s',
      },
    });
    assert.equal(bootstrap.node.metadata.GENERATOR, 'grpc');
    assert.equal(statSync(join(certs, 'key.pem')).mode & 0o777, 0o600, 'the key is private');
    const leaf = new X509Certificate(readFileSync(join(certs, 'cert-chain.pem')));
    assert.match(String(leaf.subjectAltName), /URI:spiffe:\/\/cluster\.local\/ns\/foo\/sa\/client/);
    assert.ok(leaf.verify(new X509Certificate(readFileSync(join(certs, 'root-cert.pem'))).publicKey));

    process.env.GRPC_XDS_BOOTSTRAP = bootstrapFile;
    const xds = await import('@grpc/grpc-js-xds');
    xds.register();
    const secure = new Greeter(TARGET, new xds.XdsChannelCredentials(grpc.credentials.createInsecure()));
    clients.push(secure);
    const first = await waitFor(
      'an mTLS call through the STRICT sidecar',
      () => call(secure).catch(() => null),
      30_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    // The server app sees the client's SPIFFE identity, as its sidecar verified it.
    assert.match(String(first.xfcc), new RegExp(`URI=${CLIENT_ID.replace(/\//g, '\\/')}`));

    // The same target with insecure credentials sends plaintext: the STRICT sidecar refuses it.
    const insecure = new Greeter(TARGET, grpc.credentials.createInsecure());
    clients.push(insecure);
    assert.equal(await codeOf(insecure), grpc.status.UNAVAILABLE);
    // So does a plain gRPC client straight to the pod.
    const direct = new Greeter(`${SIDECAR_IP}:${app.port}`, grpc.credentials.createInsecure());
    clients.push(direct);
    assert.equal(await codeOf(direct), grpc.status.UNAVAILABLE);
    assert.ok((await call(secure)).xfcc, 'the mTLS client keeps working');

    // Rotation: the agent replaces the files (20 s lifetime, renewed at half). Once the first
    // certificate has expired, a new connection still gets through: gRPC read the renewed files.
    await waitFor(
      'the agent to write a renewed certificate',
      () => serialOf(join(certs, 'cert-chain.pem')) !== leaf.serialNumber,
      30_000,
    ).catch((e: Error) =>
      assert.fail(`${e.message} (${leaf.validFrom} - ${leaf.validTo})\n${diagnostics()}`),
    );
    const expiry = new Date(leaf.validTo).getTime();
    await waitFor('the first certificate to expire', () => Date.now() > expiry + 1000, 30_000);
    const fresh = new Greeter(TARGET, new xds.XdsChannelCredentials(grpc.credentials.createInsecure()), {
      'grpc.use_local_subchannel_pool': 1,
    });
    clients.push(fresh);
    const rotated = await waitFor(
      'a call on a new connection after the first certificate expired',
      () => call(fresh).catch(() => null),
      20_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    assert.match(String(rotated.xfcc), new RegExp(`URI=${CLIENT_ID.replace(/\//g, '\\/')}`));
  } finally {
    for (const c of clients) c.close();
    agent.kill('SIGTERM');
    await agentExited;
    if (sidecar) {
      sidecar.child.kill('SIGTERM');
      await sidecar.exited;
    }
    await server.stop();
    app.server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
