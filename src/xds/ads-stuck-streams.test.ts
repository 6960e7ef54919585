// Tests that ADS clients which stop reading (HTTP/2 window 0) neither hold up pushes to a healthy
// client nor stay connected: real gRPC streams on 127.0.0.1 against the real ADS server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { AdsServer } from './ads-server.js';
import type { Resource } from './ads-server.js';
import { adsServiceConstructor } from './ads-service.js';
import type { DiscoveryResponseMessage } from './ads-service.js';
import { edsCluster, waitFor } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const STUCK = 12;
const THROTTLE = 4;

/** Enough clusters (~150 KiB encoded) that a response overflows a client's 64 KiB HTTP/2 window. */
function clusters(generation: number, count = 1200): Resource[] {
  const key = `${generation}/${count}`;
  let list = generated.get(key);
  if (!list) {
    list = Array.from({ length: count }, (_, i) =>
      edsCluster(`outbound|9080|v${generation}|service-${i}.default.svc.cluster.local`),
    );
    generated.set(key, list);
  }
  return list;
}

/** The same objects for every stream (with `immutableResources` they are encoded once). */
const generated = new Map<string, Resource[]>();

/** A gRPC ADS stream that sends its subscription and then never reads: its HTTP/2 window closes. */
class StuckClient {
  readonly session: http2.ClientHttp2Session;
  /** The RST_STREAM code once the server reset the stream, else null. */
  resetCode: number | null = null;

  /** Bytes of responses received (a slow reader only). */
  received = 0;

  /** `slowReadMs`: instead of never reading, take one chunk every this many ms, with 16 KiB windows. */
  constructor(port: number, id: string, slowReadMs = 0) {
    const method = adsServiceConstructor().service.StreamAggregatedResources;
    const settings = slowReadMs > 0 ? { initialWindowSize: 16384 } : {};
    this.session = http2.connect(`http://127.0.0.1:${port}`, { settings });
    this.session.on('error', () => {});
    const stream = this.session.request({
      ':method': 'POST',
      ':path': method.path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.pause();
    if (slowReadMs > 0) {
      stream.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
        stream.pause();
        setTimeout(() => stream.resume(), slowReadMs);
      });
      stream.resume();
    }
    stream.on('error', () => {});
    stream.on('close', () => (this.resetCode = stream.rstCode ?? 0));
    const body = method.requestSerialize({ node: { id, metadata: {} }, typeUrl: TypeUrl.CLUSTER });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    stream.write(frame);
  }
}

/** A grpc-js ADS client subscribed to CDS that records the version of every non-empty response. */
function healthyClient(port: number): {
  call: grpc.ClientDuplexStream<object, DiscoveryResponseMessage>;
  versions: string[];
  close: () => void;
} {
  const client = new (adsServiceConstructor())(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const call: grpc.ClientDuplexStream<object, DiscoveryResponseMessage> = client.StreamAggregatedResources();
  const versions: string[] = [];
  call.on('data', (r: DiscoveryResponseMessage) => versions.push(r.versionInfo ?? ''));
  call.on('error', () => {});
  call.write({
    node: { id: 'router~127.1.0.2~gateway-0.istio-system~istio-system.svc.cluster.local', metadata: {} },
    typeUrl: TypeUrl.CLUSTER,
    resourceNames: [],
  });
  const close = (): void => {
    call.cancel();
    client.close();
  };
  return { call, versions, close };
}

async function start(sendTimeoutMs: number) {
  const state = { generation: 1 };
  const logs: string[] = [];
  const server = new AdsServer({
    address: '127.0.0.1:0',
    generate: (_proxy, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? clusters(state.generation) : []),
    pushThrottle: THROTTLE,
    sendTimeoutMs,
    immutableResources: true,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  const port = await server.listen();
  const stuck: StuckClient[] = [];
  for (let i = 0; i < STUCK; i++)
    stuck.push(
      new StuckClient(port, `sidecar~127.1.0.${i + 10}~stuck-${i}.default~default.svc.cluster.local`),
    );
  const m = (): { pilot_xds: number; pilot_xds_write_timeout: number } => server.metrics();
  await waitFor(
    'every stuck client connected',
    () => m().pilot_xds + m().pilot_xds_write_timeout === STUCK,
    30000,
  );
  return { server, port, state, logs, stuck };
}

test(
  'clients that never read give their push slots back: a healthy client gets its config and every change',
  { timeout: 90000 },
  async () => {
    // Eviction far away: what lets the healthy client through is the slot timeout alone.
    const { server, port, state, stuck } = await start(120000);
    const healthy = healthyClient(port);
    try {
      await waitFor('the healthy client got its clusters', () => healthy.versions.length >= 1, 20000);
      for (const generation of [2, 3]) {
        state.generation = generation;
        void server.push();
        await waitFor(
          `the healthy client got change ${generation}`,
          () => healthy.versions.length >= generation,
          20000,
        );
      }
      // ...while every stuck client is still connected, its response still unsent.
      assert.equal(server.metrics().pilot_xds, STUCK + 1);
      assert.equal(server.metrics().pilot_xds_write_timeout, 0);
      assert.ok(stuck.every((s) => s.resetCode === null));
    } finally {
      healthy.close();
      for (const s of stuck) s.session.destroy();
      await server.close();
    }
  },
);

test(
  'a stream that does not take a response within the send timeout is reset and counted; others are still served',
  { timeout: 90000 },
  async () => {
    const { server, port, state, logs, stuck } = await start(1000);
    const healthy = healthyClient(port);
    try {
      await waitFor(
        'every stuck stream evicted',
        () => server.metrics().pilot_xds_write_timeout === STUCK,
        20000,
      );
      await waitFor(
        'every stuck client saw its stream reset',
        () => stuck.every((s) => s.resetCode !== null),
        20000,
      );
      assert.ok(stuck.every((s) => s.resetCode === http2.constants.NGHTTP2_CANCEL));
      assert.ok(
        logs.some((l) => /stuck-0\.default.*took no bytes of a response within 1000 ms/.test(l)),
        logs.join('\n'),
      );
      await waitFor('only the healthy client left', () => server.metrics().pilot_xds === 1);
      state.generation = 2;
      void server.push();
      await waitFor('the healthy client got the change', () => healthy.versions.length >= 2, 20000);
      assert.equal(server.metrics().pilot_xds_write_timeout, STUCK);
    } finally {
      healthy.close();
      for (const s of stuck) s.session.destroy();
      await server.close();
    }
  },
);

test(
  'a slow client that keeps taking bytes is not evicted, however long its response takes',
  { timeout: 90000 },
  async () => {
    const server = new AdsServer({
      address: '127.0.0.1:0',
      generate: (_proxy, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? clusters(1, 3000) : []),
      sendTimeoutMs: 300,
      log: () => {},
    });
    const port = await server.listen();
    // ~560 KiB through a 16 KiB window, one chunk per 40 ms: far longer than the send timeout.
    const slow = new StuckClient(port, 'sidecar~127.1.0.9~slow-0.default~default.svc.cluster.local', 40);
    try {
      const size = await waitFor(
        'the whole response',
        () => (slow.received > 500000 ? slow.received : 0),
        30000,
      );
      await waitFor('the response complete', () => server.syncStatus()[0]?.types[TypeUrl.CLUSTER]?.sent);
      assert.ok(size > 500000);
      assert.equal(server.metrics().pilot_xds_write_timeout, 0);
      assert.equal(server.metrics().pilot_xds, 1);
      assert.equal(slow.resetCode, null);
    } finally {
      slow.session.destroy();
      await server.close();
    }
  },
);
