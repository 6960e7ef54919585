// Proxyless gRPC with Istio mutual TLS, all real processes: `mizzen server` (with its CA), `mizzen
// agent` writing the gRPC bootstrap and the client's certificate files, a grpc-js-xds client with
// XdsChannelCredentials, a gRPC server behind a `mizzen proxy` sidecar and a proxyless gRPC server
// (XdsServer with XdsServerCredentials, its own agent; also called by a sidecar client), both under
// PeerAuthentication STRICT. Own file: grpc-js-xds reads its bootstrap from the environment once per
// process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor } from '../cli/server-test-util.js';
import { BIN } from '../cli/test-util.js';
import { spawnProxy, type ProxyChild } from '../proxy/test-util.js';
import { ensureLocalTokenKey, issueLocalToken } from '../ca/token.js';
import { freeStablePort } from '../local/ports.js';

/** A /24 of loopback addresses for this run (other test files use other ones). */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
const APP_IP = `${NET}.1`;
const SIDECAR_IP = `${NET}.2`;
const CLIENT_IP = `${NET}.3`;
const GREETER_IP = `${NET}.4`;
const SLEEP_IP = `${NET}.5`;
const TARGET = 'xds:///helloworld.foo.svc.cluster.local:7070';
const GREETER_TARGET = 'xds:///greeter.foo.svc.cluster.local:7071';
const CLIENT_ID = 'spiffe://cluster.local/ns/foo/sa/client';

interface Hello {
  name: string;
  /** The x-forwarded-client-cert the server app received. */
  xfcc?: string;
  /** The proxyless server's view of its peer: the certificate's SANs. */
  peer?: string;
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

const manifests = (port: number, greeterPort: number): string => `apiVersion: v1
kind: Service
metadata: { name: greeter, namespace: foo }
spec:
  selector: { app: greeter }
  ports: [{ name: grpc, port: 7071, targetPort: ${greeterPort} }]
---
apiVersion: v1
kind: Pod
metadata: { name: greeter-0, namespace: foo, labels: { app: greeter, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: greeter, containers: [{ name: greeter, ports: [{ containerPort: ${greeterPort} }] }] }
status: { phase: Running, podIP: ${GREETER_IP}, conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: greeter, namespace: foo }
spec:
  host: greeter.foo.svc.cluster.local
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
---
apiVersion: v1
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
metadata: { name: sleep-0, namespace: foo, labels: { app: sleep, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: sleep, containers: [{ name: sleep }] }
status: { phase: Running, podIP: ${SLEEP_IP}, conditions: [{ type: Ready, status: "True" }] }
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

/** A child process and what it wrote to stderr. */
interface Child {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr(): string;
  stdout(): string;
}

function spawnChild(args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited, stderr: () => err, stdout: () => out };
}

/** `mizzen agent` for pod NAME-0 (service account NAME) at `ip`, writing under `dir`. */
function spawnAgent(xds: string, dir: string, name: string, ip: string): Child {
  return spawnChild([
    BIN,
    'agent',
    '--xds-address',
    xds,
    '--id',
    `sidecar~${ip}~${name}-0.foo~foo.svc.cluster.local`,
    '--metadata',
    JSON.stringify({ NAMESPACE: 'foo', SERVICE_ACCOUNT: name, INSTANCE_IPS: ip, LABELS: { app: name } }),
    '--token-file',
    join(dir, `${name}.jwt`),
    '--output-certs',
    join(dir, `${name}-certs`),
    '--grpc-bootstrap',
    join(dir, `${name}-bootstrap.json`),
    '--cert-ttl',
    '20s',
  ]);
}

/** The proxyless greeter: XdsServer with XdsServerCredentials, answering with its peer's SANs. */
const GREETER_SERVER = `
const grpc = require('@grpc/grpc-js');
const xds = require('@grpc/grpc-js-xds');
xds.register();
const codec = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) };
const server = new xds.XdsServer();
server.addService(
  { SayHello: { path: '/helloworld.Greeter/SayHello', requestStream: false, responseStream: false,
      requestSerialize: codec.serialize, requestDeserialize: codec.deserialize,
      responseSerialize: codec.serialize, responseDeserialize: codec.deserialize } },
  { SayHello: (call, cb) => cb(null, { name: call.request.name,
      peer: String(call.getAuthContext().sslPeerCertificate?.subjectaltname ?? '') }) },
);
server.bindAsync(process.env.GREETER_ADDRESS, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()),
  (err) => (err ? (console.error(err.message), process.exit(1)) : console.log('serving')));
process.on('SIGTERM', () => { server.forceShutdown(); process.exit(0); });
`;

/**
 * A unary gRPC call sent as HTTP/1.1 through the sleep sidecar's HTTP proxy port (as an app with
 * HTTP_PROXY would); the sidecar speaks HTTP/2 and Istio mutual TLS upstream. The decoded reply, or null.
 */
function grpcViaSleep(host: string): Promise<Hello | null> {
  const msg = Buffer.from(JSON.stringify({ name: 'sleep' }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]);
  frame.writeUInt32BE(msg.length, 1);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: SLEEP_IP,
        port: 15001,
        method: 'POST',
        path: `http://${host}/helloworld.Greeter/SayHello`,
        headers: { 'content-type': 'application/grpc', te: 'trailers' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200 || body.length < 5) return resolve(null);
          try {
            resolve(JSON.parse(body.subarray(5, 5 + body.readUInt32BE(1)).toString()) as Hello);
          } catch {
            resolve(null);
          }
        });
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null));
    req.setTimeout(5000, () => req.destroy());
    req.end(frame);
  });
}

test('proxyless gRPC with mizzen agent certificates: mTLS to a STRICT sidecar and to a STRICT XdsServer; plaintext refused; a sidecar client to the XdsServer; rotation; PERMISSIVE sidecars refuse gRPC TLS', async () => {
  const app = await startApp();
  // The XdsServer binds it only once its listener arrives, and on every address ('::'): a port below
  // the ephemeral range, free on all of them, so no other socket takes it meanwhile.
  const greeterPort = await freeStablePort('::');
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-grpc-mtls-'));
  const configDir = join(dir, 'config');
  const caDir = join(dir, 'ca');
  const certs = join(dir, 'client-certs');
  const bootstrapFile = join(dir, 'client-bootstrap.json');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'mesh.yaml'), manifests(app.port, greeterPort));
  const server = await startServer(configDir, ['--ca-dir', caDir]);
  const key = ensureLocalTokenKey(caDir);
  for (const sa of ['helloworld', 'client', 'greeter', 'sleep'])
    writeFileSync(
      join(dir, `${sa}.jwt`),
      await issueLocalToken(key, { namespace: 'foo', serviceAccount: sa, pod: `${sa}-0` }),
    );

  const children: Child[] = [];
  let sidecar: ProxyChild | null = null;
  let sleepSidecar: ProxyChild | null = null;
  const clients: grpc.Client[] = [];
  const diagnostics = (): string =>
    `${children.map((c) => `${c.stdout()}${c.stderr()}`).join('\n---\n')}\nserver:\n${server.stderr()}`;
  try {
    const agent = spawnAgent(server.xds, dir, 'client', CLIENT_IP);
    children.push(agent, spawnAgent(server.xds, dir, 'greeter', GREETER_IP));
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
    sleepSidecar = await spawnProxy(
      [
        'sidecar',
        '--xds-address',
        server.xds,
        '--id',
        `sidecar~${SLEEP_IP}~sleep-0.foo~foo.svc.cluster.local`,
        '--metadata',
        JSON.stringify({
          NAMESPACE: 'foo',
          SERVICE_ACCOUNT: 'sleep',
          LABELS: { app: 'sleep' },
          INSTANCE_IPS: SLEEP_IP,
          INTERCEPTION_MODE: 'NONE',
        }),
        '--admin-port',
        '0',
        '--token-file',
        join(dir, 'sleep.jwt'),
      ],
      join(dir, 'sleep.ready'),
    );

    // The agents write the bootstrap once the certificate is in place, with Istio's provider `default`.
    await waitFor(
      'the agents to write their bootstraps',
      () => existsSync(bootstrapFile) && existsSync(join(dir, 'greeter-bootstrap.json')),
      30_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
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
    assert.equal(bootstrap.server_listener_resource_name_template, 'xds.istio.io/grpc/lds/inbound/%s');
    assert.equal(statSync(join(certs, 'key.pem')).mode & 0o777, 0o600, 'the key is private');
    const leaf = new X509Certificate(readFileSync(join(certs, 'cert-chain.pem')));
    assert.match(String(leaf.subjectAltName), /URI:spiffe:\/\/cluster\.local\/ns\/foo\/sa\/client/);
    assert.ok(leaf.verify(new X509Certificate(readFileSync(join(certs, 'root-cert.pem'))).publicKey));

    // The proxyless greeter serves once Mizzen gives it its inbound listener.
    const greeter = spawnChild(['-e', GREETER_SERVER], {
      ...process.env,
      GRPC_XDS_BOOTSTRAP: join(dir, 'greeter-bootstrap.json'),
      GREETER_ADDRESS: `${GREETER_IP}:${greeterPort}`,
    });
    children.push(greeter);

    process.env.GRPC_XDS_BOOTSTRAP = bootstrapFile;
    const xds = await import('@grpc/grpc-js-xds');
    xds.register();
    const creds = (): grpc.ChannelCredentials =>
      new xds.XdsChannelCredentials(grpc.credentials.createInsecure());
    const secure = new Greeter(TARGET, creds());
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

    // Proxyless on both ends: the XdsServer requires the client's certificate and sees its identity.
    await waitFor('the greeter to serve', () => greeter.stdout().includes('serving'), 30_000).catch(
      (e: Error) => assert.fail(`${e.message}\n${diagnostics()}`),
    );
    const toGreeter = new Greeter(GREETER_TARGET, creds());
    clients.push(toGreeter);
    const hello = await waitFor(
      'an mTLS call to the proxyless server',
      () => call(toGreeter).catch(() => null),
      30_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    assert.match(String(hello.peer), new RegExp(`URI:${CLIENT_ID.replace(/\//g, '\\/')}`));
    // A sidecar client reaches the proxyless server over Istio mutual TLS, with its own identity.
    const viaSidecar = await waitFor(
      'a call from the sleep sidecar to the proxyless server',
      () => grpcViaSleep('greeter.foo.svc.cluster.local:7071'),
      30_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    assert.match(String(viaSidecar.peer), /URI:spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/);
    const plainGreeter = new Greeter(`${GREETER_IP}:${greeterPort}`, grpc.credentials.createInsecure());
    clients.push(plainGreeter);
    assert.equal(await codeOf(plainGreeter), grpc.status.UNAVAILABLE, 'STRICT: plaintext is refused');

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
    for (const target of [TARGET, GREETER_TARGET]) {
      const renewed = new Greeter(target, creds(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(renewed);
      await waitFor(
        `a call to ${target} on a new connection after the first certificate expired`,
        () => call(renewed).catch(() => null),
        20_000,
      ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    }

    // A PERMISSIVE sidecar takes gRPC's TLS (ALPN h2, not Istio's) for a non-mesh client's: the
    // mTLS call fails once plaintext is accepted again, and the server log says why.
    writeFileSync(
      join(configDir, 'pa-helloworld.yaml'),
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: helloworld, namespace: foo }
spec: { selector: { matchLabels: { app: helloworld } }, mtls: { mode: PERMISSIVE } }
`,
    );
    const fresh = (c: grpc.ChannelCredentials): grpc.Client => {
      const client = new Greeter(TARGET, c, { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      return client;
    };
    await waitFor(
      'plaintext accepted under PERMISSIVE',
      async () => (await codeOf(fresh(grpc.credentials.createInsecure()))) === 0,
      30_000,
    ).catch((e: Error) => assert.fail(`${e.message}\n${diagnostics()}`));
    assert.equal(await codeOf(fresh(creds())), grpc.status.UNAVAILABLE);
    assert.match(server.stderr(), /outbound\|7070\|\|helloworld.*is PERMISSIVE: gRPC offers ALPN h2 only/);
  } finally {
    for (const c of clients) c.close();
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    for (const p of [sidecar, sleepSidecar]) {
      if (!p) continue;
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await server.stop();
    app.server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
