// HTTP/2 connection_keepalive on a cluster (e.g. added by an EnvoyFilter): the pool PINGs each upstream
// session every interval, and a session whose PING goes unanswered (a peer that vanished without a FIN,
// made here by a relay that stops forwarding) is destroyed within the timeout; the next request opens a
// new session.
import assert from 'node:assert/strict';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import { get, hcm, httpListener, routeConfig, startProxy, staticCluster, waitFor } from '../../test-util.js';
import { poolOptions } from './pool-options.js';

/** A TCP relay to `port` whose connections can be frozen (bytes dropped both ways, sockets left open). */
class Relay {
  readonly server: Server;
  frozen = false;
  /** Proxy-side sockets accepted, and how many of them have closed. */
  accepted = 0;
  closed = 0;
  private readonly sockets = new Set<Socket>();
  constructor(port: number) {
    this.server = createServer((down) => {
      this.accepted++;
      this.frozen = false;
      const up = connect(port, '127.0.0.1');
      this.sockets.add(down).add(up);
      down.on('data', (d: Buffer) => !this.frozen && up.write(d));
      up.on('data', (d: Buffer) => !this.frozen && down.write(d));
      down.on('close', () => {
        this.closed++;
        up.destroy();
      });
      up.on('close', () => down.destroy());
      down.on('error', () => {});
      up.on('error', () => {});
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }
  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

describe('HTTP/2 upstream connection_keepalive', () => {
  let backend: Http2Server;
  let relay: Relay;
  let proxy: Proxy;
  let pings = 0;

  before(async () => {
    backend = createH2Server((_req, res) => res.end('h2 ok'));
    backend.on('session', (s) => s.on('ping', () => pings++));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    relay = new Relay((backend.address() as AddressInfo).port);
    const relayPort = await relay.listen();
    proxy = await startProxy(
      [httpListener('l', hcm(routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'h2' } }])))],
      [
        staticCluster('h2', [relayPort], {
          http2ProtocolOptions: { connectionKeepalive: { interval: '0.2s', timeout: '0.5s' } },
        }),
      ],
    );
  });

  after(async () => {
    await proxy.close();
    relay.close();
    backend.close();
  });

  it('PINGs the upstream session every interval', async () => {
    const r = await get(proxy.listenerPort('l'), '/');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'h2 ok');
    await waitFor('three keepalive PINGs at the backend', () => pings >= 3, 10_000);
    assert.equal(relay.accepted, 1, 'one session carries the PINGs');
  });

  it('destroys a session whose PING is not answered, and opens a new one for the next request', async () => {
    const accepted = relay.accepted;
    relay.frozen = true;
    await waitFor('the silent session closed by the proxy', () => relay.closed >= accepted, 10_000);
    const r = await get(proxy.listenerPort('l'), '/');
    assert.equal(r.status, 200, r.body);
    assert.equal(relay.accepted, accepted + 1);
  });

  it('requires the timeout, refuses connection_idle_interval, and defaults the jitter to 15 %', () => {
    const opts = (ka: Record<string, unknown>) =>
      poolOptions({ name: 'c', http2ProtocolOptions: { connectionKeepalive: ka } });
    assert.throws(() => opts({ interval: '1s' }), /connectionKeepalive\.timeout is required/);
    assert.throws(
      () => opts({ interval: '1s', timeout: '1s', connectionIdleInterval: '5s' }),
      /connectionIdleInterval is not supported/,
    );
    assert.deepEqual(opts({ interval: '1s', timeout: '2s' }).h2Keepalive, {
      intervalMs: 1000,
      timeoutMs: 2000,
      jitterPercent: 15,
    });
    assert.equal(opts({ timeout: '2s' }).h2Keepalive, null, 'no interval: no periodic PING');
  });
});
