// Tests the response writer on a real grpc-js server and client over 127.0.0.1: responses written straight
// onto the HTTP/2 stream (grpc-js's serializer never runs) arrive whole, in order, with the status after them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { adsServiceConstructor, type DiscoveryResponseMessage } from './ads-service.js';
import { encodeDiscoveryResponse } from './discovery-response-bytes.js';
import { encodeResource, decodeResource } from './protos.js';
import { ResponseWriter } from './response-writer.js';
import { edsCluster } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const anys = Array.from({ length: 300 }, (_, i) =>
  encodeResource(TypeUrl.CLUSTER, edsCluster(`outbound|9080||s${i}.default.svc.cluster.local`)),
);

async function serve(
  handler: (call: grpc.ServerDuplexStream<unknown, unknown>) => void,
): Promise<{ port: number; serialized: () => number; stop: () => void }> {
  const service = adsServiceConstructor().service;
  let serialized = 0;
  const method = service.StreamAggregatedResources;
  const counting = {
    ...method,
    responseSerialize: (v: unknown): Buffer => {
      serialized++;
      return method.responseSerialize(v);
    },
  };
  const server = new grpc.Server();
  server.addService(
    { ...service, StreamAggregatedResources: counting },
    {
      StreamAggregatedResources: handler,
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, serialized: () => serialized, stop: () => server.forceShutdown() };
}

test('responses go onto the HTTP/2 stream whole and in order, without grpc-js copying them', async () => {
  const server = await serve((call) => {
    const writer = new ResponseWriter(call, 10_000, () => assert.fail('not stuck'));
    call.on('data', () => {
      void (async () => {
        for (const nonce of ['1', '2', '3']) {
          const header = { versionInfo: `v${nonce}`, typeUrl: TypeUrl.CLUSTER, nonce, controlPlaneId: 'm' };
          await writer.write(() => encodeDiscoveryResponse(header, nonce === '2' ? anys.slice(0, 1) : anys));
        }
        call.end();
      })();
    });
  });
  try {
    const Client = adsServiceConstructor();
    const client = new Client(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      StreamAggregatedResources(): grpc.ClientDuplexStream<object, DiscoveryResponseMessage>;
    };
    const call = client.StreamAggregatedResources();
    const got: DiscoveryResponseMessage[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', (r: DiscoveryResponseMessage) => got.push(r));
    call.write({
      node: { id: 'sidecar~127.0.0.1~a.default~default.svc.cluster.local' },
      typeUrl: TypeUrl.CLUSTER,
    });
    const s = await status;
    assert.equal(s.code, grpc.status.OK, s.details);
    assert.deepEqual(
      got.map((r) => [r.nonce, r.versionInfo, r.resources?.length]),
      [
        ['1', 'v1', 300],
        ['2', 'v2', 1],
        ['3', 'v3', 300],
      ],
    );
    assert.equal(
      decodeResource(got[2].resources![299]).name,
      'outbound|9080||s299.default.svc.cluster.local',
    );
    assert.equal(server.serialized(), 0, "grpc-js's serializer (and its copy) never ran");
    call.end();
    client.close();
  } finally {
    server.stop();
  }
});

test(
  'a write on a call the client cancelled settles at once instead of waiting for the send timeout',
  { timeout: 120_000 },
  async () => {
    // Wrapped: a promise resolved with a promise would wait for it.
    let onCancelled!: (write: { settled: Promise<void> }) => void;
    const written = new Promise<{ settled: Promise<void> }>((resolve) => (onCancelled = resolve));
    let onRequest!: () => void;
    const requested = new Promise<void>((resolve) => (onRequest = resolve));
    const server = await serve((call) => {
      call.on('cancelled', () => {
        const writer = new ResponseWriter(call, 600_000, () => assert.fail('not stuck'));
        const header = { versionInfo: 'v', typeUrl: TypeUrl.CLUSTER, nonce: 'n', controlPlaneId: 'm' };
        onCancelled({ settled: writer.write(() => encodeDiscoveryResponse(header, anys)) });
      });
      call.on('data', () => onRequest());
    });
    const client = new (adsServiceConstructor())(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      StreamAggregatedResources(): grpc.ClientDuplexStream<object, unknown>;
    };
    try {
      const call = client.StreamAggregatedResources();
      call.on('error', () => {});
      call.write({ node: { id: 'x' }, typeUrl: TypeUrl.CLUSTER });
      // Cancel once the server's handler has the request (a fixed delay lost that race on a loaded
      // machine: the cancel came first, the handler never saw it, and the test waited forever).
      await requested;
      call.cancel();
      const { settled } = await written;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        settled.then(() => 'settled'),
        new Promise<string>(
          (resolve) => (timer = setTimeout(() => resolve('still pending after 10 s'), 10_000)),
        ),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, 'settled');
    } finally {
      client.close();
      server.stop();
    }
  },
);

test('a send timeout of 0 never evicts: no timer waits on a client that takes nothing; any other value does', async () => {
  // A call that takes the message and never finishes writing it: a client that stopped reading.
  const neverDone = { write: () => true, sendMetadata: () => {} };
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const encode = () =>
    encodeDiscoveryResponse(
      { versionInfo: 'v1', typeUrl: TypeUrl.CLUSTER, nonce: '1', controlPlaneId: 'm' },
      anys,
    );

  const before = timers();
  let evicted = false;
  const off = new ResponseWriter(neverDone, 0, () => (evicted = true));
  const pending = off.write(encode);
  assert.equal(timers(), before, 'no eviction timer was armed');
  off.cancel(); // the stream closed: the write settles without evicting
  await pending;
  assert.equal(evicted, false);

  const stuck = new Promise<void>((resolve) => {
    const on = new ResponseWriter(neverDone, 20, resolve);
    void on.write(encode);
    assert.equal(timers(), before + 1, 'the eviction timer was armed');
  });
  await stuck; // evicted after 20 ms without a byte taken
});
