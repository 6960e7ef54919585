// Conformance: an independent xDS client (@grpc/grpc-js-xds, proxyless gRPC) routes real calls by
// what our AdsServer serves, and follows a pushed route change. Own file: grpc-js-xds reads its
// bootstrap from the environment once per process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdsServer } from './ads-server.js';
import type { Resource } from './ads-server.js';
import { resourceName } from './protos.js';
import { apiListener, edsCluster, loadAssignment, routeConfig, waitFor } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const HOST = 'helloworld.default.svc.cluster.local';
const TARGET = `${HOST}:7070`;
const CLUSTER_A = `outbound|7070||${HOST}`;
const CLUSTER_B = `outbound|7070|v2|${HOST}`;

interface Hello {
  name: string;
  backend?: string;
}

const json = {
  serialize: (value: Hello): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Hello => JSON.parse(bytes.toString()) as Hello,
};

const greeter: grpc.ServiceDefinition = {
  SayHello: {
    path: '/helloworld.Greeter/SayHello',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

/** The route config sending `a`/`b` percent to cluster A/B (keeps both clusters referenced). */
function weightedRoute(a: number, b: number): Resource {
  const route = routeConfig(TARGET, [HOST, TARGET], CLUSTER_A) as any;
  route.virtualHosts[0].routes[0].route = {
    weightedClusters: {
      clusters: [
        { name: CLUSTER_A, weight: { value: a } },
        { name: CLUSTER_B, weight: { value: b } },
      ],
    },
  };
  return route;
}

/** A plain gRPC backend on 127.0.0.1 that answers with its own name. */
async function startBackend(backend: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(greeter, {
    SayHello: (call: grpc.ServerUnaryCall<Hello, Hello>, callback: grpc.sendUnaryData<Hello>) =>
      callback(null, { name: call.request.name, backend }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}

/** One unary call; generous deadline because xDS resolution on a loaded 2-core CI box takes seconds. */
function sayHello(client: grpc.Client, timeoutMs = 5000): Promise<Hello> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    (client as any).SayHello({ name: 'mizzen' }, { deadline }, (err: grpc.ServiceError | null, res: Hello) =>
      err ? reject(err) : resolve(res),
    );
  });
}

test('proxyless gRPC (grpc-js-xds) routes by our ADS resources and follows a pushed route change', async () => {
  const backendA = await startBackend('A');
  const backendB = await startBackend('B');
  const resources = new Map<string, Resource[]>([
    [TypeUrl.LISTENER, [apiListener(TARGET)]],
    [TypeUrl.ROUTE, [routeConfig(TARGET, [HOST, TARGET], CLUSTER_A)]],
    [TypeUrl.CLUSTER, [edsCluster(CLUSTER_A), edsCluster(CLUSTER_B)]],
    [
      TypeUrl.ENDPOINT,
      [
        loadAssignment(CLUSTER_A, [['127.0.0.1', backendA.port]]),
        loadAssignment(CLUSTER_B, [['127.0.0.1', backendB.port]]),
      ],
    ],
  ]);
  const requested = new Map<string, readonly string[]>();
  const logs: string[] = [];
  const ads = new AdsServer({
    address: '127.0.0.1:0',
    log: (level, message) => logs.push(`${level}: ${message}`),
    generate: (_proxy, typeUrl, names) => {
      requested.set(typeUrl, names);
      return resources.get(typeUrl) ?? [];
    },
  });
  const adsPort = await ads.listen();
  const diagnostics = () =>
    JSON.stringify({ syncStatus: ads.syncStatus(), requested: Object.fromEntries(requested), logs }, null, 1);

  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [
      {
        server_uri: `127.0.0.1:${adsPort}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: {
      id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local',
      locality: { zone: 'local' },
      metadata: { GENERATOR: 'grpc' },
    },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const Greeter = grpc.makeGenericClientConstructor(greeter, 'Greeter');
  const client = new Greeter(`xds:///${TARGET}`, grpc.credentials.createInsecure());
  try {
    let first: Hello;
    try {
      first = await sayHello(client, 20000);
    } catch (err) {
      assert.fail(`first call through xds failed: ${(err as Error).message}\n${diagnostics()}`);
    }
    assert.deepEqual(first, { name: 'mizzen', backend: 'A' });

    const types = [TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT];
    const allAcked = () => types.every((t) => ads.syncStatus()[0]?.types[t]?.acked);
    await waitFor('ACKs of all four types', allAcked, 10000).catch(() =>
      assert.fail(`not all ACKed\n${diagnostics()}`),
    );
    const [status] = ads.syncStatus();
    assert.equal(status.id, 'sidecar~127.0.0.1~client.default~default.svc.cluster.local');
    assert.equal(status.metadata.GENERATOR, 'grpc');
    assert.deepEqual(
      requested.get(TypeUrl.LISTENER),
      [TARGET],
      'grpc-js-xds subscribes to its listener by name',
    );
    for (const typeUrl of types) {
      const t = status.types[typeUrl];
      assert.ok(t, `no ${typeUrl} subscription\n${diagnostics()}`);
      assert.equal(
        t.lastNack,
        undefined,
        `grpc-js-xds rejected ${typeUrl}: ${t.lastNack?.message}\n${diagnostics()}`,
      );
      assert.equal(t.acked, t.sent, `${typeUrl} not ACKed\n${diagnostics()}`);
    }

    // Send all traffic to cluster B and push: the running client must follow. Weights 0/100 keep
    // cluster A referenced: dropping it outright leaves a 10 s failover timer behind in
    // grpc-js-xds' priority balancer (not cancelled on destroy), which holds the test process open.
    resources.set(TypeUrl.ROUTE, [weightedRoute(0, 100)]);
    await ads.push();
    let last: Hello | Error = first;
    await waitFor(
      'the client to follow the route change',
      async () => {
        last = await sayHello(client).catch((err: Error) => err);
        return !(last instanceof Error) && last.backend === 'B';
      },
      20_000,
      50,
    ).catch((err: Error) => {
      assert.fail(
        `${err.message}: last answer ${String(last instanceof Error ? last.message : JSON.stringify(last))}\n${diagnostics()}`,
      );
    });
    for (let i = 0; i < 5; i++) assert.equal((await sayHello(client)).backend, 'B');
    const rds = ads.syncStatus()[0].types[TypeUrl.ROUTE];
    assert.equal(rds.lastNack, undefined);
    assert.equal(resourceName(resources.get(TypeUrl.ROUTE)![0]), TARGET);
  } finally {
    client.close();
    await ads.close();
    backendA.server.forceShutdown();
    backendB.server.forceShutdown();
  }
});
