// Conformance through YAML → pilot → ADS: real grpc-js servers as helloworld v1 and v2, a
// @grpc/grpc-js-xds client with an `xds:///` target through `mizzen server`: 80/20 split, header
// match, fault abort, and a config change obeyed without restart. Own file: grpc-js-xds reads its
// bootstrap from the environment once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor } from '../cli/server-test-util.js';

interface Hello {
  name: string;
  version?: string;
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

async function startBackend(version: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(greeter, {
    SayHello: (call: grpc.ServerUnaryCall<Hello, Hello>, cb: grpc.sendUnaryData<Hello>) =>
      cb(null, { name: call.request.name, version }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}

const pod = (version: string, port: number): string => `apiVersion: v1
kind: Pod
metadata: { name: helloworld-${version}-0, labels: { app: helloworld, version: ${version} } }
spec: { containers: [{ name: helloworld, ports: [{ name: grpc, containerPort: ${port} }] }] }
status: { podIP: 127.0.0.1 }
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: helloworld }
spec:
  selector: { app: helloworld }
  ports: [{ name: grpc, port: 7070, targetPort: grpc }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: helloworld }
spec:
  host: helloworld
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

const ROUTING = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: helloworld }
spec:
  hosts: [helloworld]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: helloworld, subset: v2 } }]
    - match: [{ headers: { x-fault: { exact: abort } } }]
      fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }
      route: [{ destination: { host: helloworld, subset: v1 } }]
    - route:
        - { destination: { host: helloworld, subset: v1 }, weight: 80 }
        - { destination: { host: helloworld, subset: v2 }, weight: 20 }
`;

/** After the change: everyone to v2, jason to v1 (both clusters stay referenced). */
const CHANGED = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: helloworld }
spec:
  hosts: [helloworld]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: helloworld, subset: v1 } }]
    - route: [{ destination: { host: helloworld, subset: v2 } }]
`;

function call(client: grpc.Client, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Hello> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return new Promise((resolve, reject) => {
    (client as any).SayHello(
      { name: 'mizzen' },
      md,
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, res: Hello) => (err ? reject(err) : resolve(res)),
    );
  });
}

test('proxyless gRPC through mizzen server: 80/20 split, header match, fault abort, live config change', async () => {
  const v1 = await startBackend('v1');
  const v2 = await startBackend('v2');
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-grpc-'));
  writeFileSync(
    join(dir, 'helloworld.yaml'),
    [SERVICE, pod('v1', v1.port), pod('v2', v2.port)].join('---\n'),
  );
  writeFileSync(join(dir, 'routing.yaml'), ROUTING);
  const server = await startServer(dir);
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [
      { server_uri: server.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: {
      id: 'sidecar~127.0.0.1~client-0.default~default.svc.cluster.local',
      locality: {},
      metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' },
    },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const Greeter = grpc.makeGenericClientConstructor(greeter, 'Greeter');
  const client = new Greeter(
    'xds:///helloworld.default.svc.cluster.local:7070',
    grpc.credentials.createInsecure(),
  );
  const diagnostics = async (): Promise<string> =>
    `${server.stderr()}\n${JSON.stringify(await (await fetch(`http://${server.debug}/debug/syncz`)).json(), null, 1)}`;
  try {
    try {
      await call(client, {}, 20000);
    } catch (err) {
      assert.fail(`first call failed: ${(err as Error).message}\n${await diagnostics()}`);
    }

    // 80/20: 500 calls; v2's share must be near 0.2 (4 standard deviations ≈ ±0.072).
    const counts = { v1: 0, v2: 0 };
    for (let i = 0; i < 500; i++) counts[(await call(client)).version as 'v1' | 'v2']++;
    const share = counts.v2 / 500;
    assert.ok(share > 0.12 && share < 0.28, `v2 got ${counts.v2}/500`);

    // Header match.
    for (let i = 0; i < 20; i++) assert.equal((await call(client, { 'end-user': 'jason' })).version, 'v2');

    // Fault abort with the configured gRPC status.
    const err = await call(client, { 'x-fault': 'abort' }).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    assert.ok(err, 'the fault route must fail the call');
    assert.equal(err.code, grpc.status.UNAVAILABLE);

    // A config change is obeyed without restarting anything.
    writeFileSync(join(dir, 'routing.yaml'), CHANGED);
    await waitFor(
      'the client to follow the change',
      async () => (await call(client, { 'end-user': 'jason' })).version === 'v1',
      15000,
    ).catch(async (e: Error) => assert.fail(`${e.message}\n${await diagnostics()}`));
    for (let i = 0; i < 30; i++) assert.equal((await call(client)).version, 'v2');
    assert.equal((await call(client, { 'x-fault': 'abort' })).version, 'v2', 'the fault rule is gone');
    const syncz = (await (await fetch(`http://${server.debug}/debug/syncz`)).json()) as any[];
    for (const t of Object.values<{ lastNack?: unknown }>(syncz[0].types))
      assert.equal(t.lastNack, undefined, JSON.stringify(t));
  } finally {
    client.close();
    await server.stop();
    v1.server.forceShutdown();
    v2.server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
