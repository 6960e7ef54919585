// The control plane's keepalive, end to end: a real ADS client behind a TCP relay that counts HTTP/2
// PING frames; the relay is then frozen (a partition: no FIN, no RST) and the server must drop the stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { AdsClient } from './ads-client.js';
import { AdsServer } from './ads-server.js';
import { ISTIOD_KEEPALIVE, type ServerKeepalive } from './server-keepalive.js';
import { TypeUrl } from './type-urls.js';
import { edsCluster, waitFor } from './test-util.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const PING = 6;
const ACK = 1;

/** Counts HTTP/2 frames of one direction of a connection (enough framing to find PINGs). */
class FrameCounter {
  pings = 0;
  acks = 0;
  private buf = Buffer.alloc(0);
  constructor(private skip: number) {}

  feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.skip > 0) {
      const n = Math.min(this.skip, this.buf.length);
      this.buf = this.buf.subarray(n);
      this.skip -= n;
    }
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) return;
      if (this.buf[3] === PING) {
        if (this.buf[4] & ACK) this.acks++;
        else this.pings++;
      }
      this.buf = this.buf.subarray(9 + len);
    }
  }
}

/** The PINGs of one direction, summed over every connection through the relay. */
class PingCount {
  readonly counters: FrameCounter[] = [];
  get pings(): number {
    return this.counters.reduce((n, c) => n + c.pings, 0);
  }
  get acks(): number {
    return this.counters.reduce((n, c) => n + c.acks, 0);
  }
}

/**
 * A TCP relay to `port` that counts PINGs each way and can be frozen: bytes stop, the sockets stay
 * open. Each connection has its own frame counters (a reconnect starts with a new preface).
 */
class Relay {
  readonly fromServer = new PingCount();
  readonly fromClient = new PingCount();
  connections = 0;
  private frozen = false;
  private readonly sockets: Socket[] = [];
  private readonly server: Server;
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((down) => {
      this.connections++;
      const fromServer = new FrameCounter(0);
      const fromClient = new FrameCounter(PREFACE.length);
      this.fromServer.counters.push(fromServer);
      this.fromClient.counters.push(fromClient);
      const up = connect(this.target, '127.0.0.1');
      this.sockets.push(down, up);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
      down.on('data', (d: Buffer) => {
        if (this.frozen) return;
        fromClient.feed(d);
        up.write(d);
      });
      up.on('data', (d: Buffer) => {
        if (this.frozen) return;
        fromServer.feed(d);
        down.write(d);
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every byte from now on, both ways, without closing anything. */
  freeze(): void {
    this.frozen = true;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

async function serving(keepalive: Partial<ServerKeepalive>): Promise<{ server: AdsServer; port: number }> {
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 5,
    log: () => {},
    keepalive,
    generate: (_p, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? [edsCluster('c')] : []),
  });
  return { server, port: await server.listen() };
}

function client(port: number, seen: string[]): AdsClient {
  return new AdsClient({
    server: `127.0.0.1:${port}`,
    node: { id: 'sidecar~127.0.0.1~keepalive.default~default.svc.cluster.local' },
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.CLUSTER) seen.push(...resources.map((r) => String(r.name)));
    },
    wildcardTypes: [TypeUrl.CLUSTER],
    // The client's own pings would find the partition too; an hour keeps this test about the server's.
    keepalive: { intervalMs: 3_600_000, timeoutMs: 10_000 },
    log: () => {},
  });
}

test("the xDS server keeps istiod's keepalive by default", async () => {
  const { server } = await serving({});
  try {
    assert.deepEqual(server.keepalive, ISTIOD_KEEPALIVE);
    assert.deepEqual(ISTIOD_KEEPALIVE, {
      intervalMs: 30_000,
      timeoutMs: 10_000,
      maxConnectionAgeMs: 1_800_000,
      maxConnectionAgeGraceMs: 10_000,
    });
  } finally {
    await server.close();
  }
});

test('the xDS server pings a live proxy, which answers and keeps its stream; a partitioned proxy loses it', async () => {
  // A PING every 200 ms; 3 s for its ACK, so a loaded machine's late ACK does not look like a partition.
  const { server, port } = await serving({ intervalMs: 200, timeoutMs: 3000, maxConnectionAgeMs: 0 });
  const relay = new Relay(port);
  await relay.listen();
  const seen: string[] = [];
  const ads = client(relay.port, seen);
  try {
    ads.start();
    await waitFor('the proxy to get its clusters', () => seen.includes('c'));
    const stream = server.syncStatus()[0]?.connectionId;
    assert.ok(stream);
    // Every PING the server sent was answered, and the same stream lives on.
    await waitFor('three PINGs from the server, each ACKed', () => relay.fromClient.acks >= 3);
    assert.ok(relay.fromServer.pings >= relay.fromClient.acks);
    assert.equal(relay.fromClient.pings, 0, 'the client sent no PINGs of its own');
    assert.deepEqual(
      server.syncStatus().map((s) => s.connectionId),
      [stream],
    );
    assert.equal(relay.connections, 1, 'one connection all along');
    relay.freeze();
    await waitFor('the server to drop the silent proxy', () => server.syncStatus().length === 0, 20_000);
    assert.equal(server.metrics().pilot_xds, 0);
  } finally {
    ads.close();
    relay.close();
    await server.close();
  }
});

test('an old connection gets a GOAWAY; the proxy reconnects on a new stream and keeps its config meanwhile', async () => {
  const { server, port } = await serving({
    intervalMs: 0,
    maxConnectionAgeMs: 300,
    maxConnectionAgeGraceMs: 100,
  });
  const seen: string[] = [];
  const ads = client(port, seen);
  let connects = 0;
  ads.on('connected', () => connects++);
  try {
    ads.start();
    await waitFor('the proxy to get its clusters', () => seen.includes('c'));
    const first = server.syncStatus()[0].connectionId;
    await waitFor(
      'a new stream after the maximum connection age',
      () => connects >= 2 && server.syncStatus().some((s) => s.connectionId !== first),
      10_000,
    );
    assert.equal(ads.lastGood(TypeUrl.CLUSTER)?.resources[0].name, 'c');
  } finally {
    ads.close();
    await server.close();
  }
});
