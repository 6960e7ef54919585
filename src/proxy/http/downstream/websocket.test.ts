// WebSocket (HTTP/1.1 Upgrade) through the proxy with raw sockets: 101 handshake, then an echo tunnel;
// upgrades are refused (403) where the HCM does not allow them.
import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import { hcm, httpListener, routeConfig, startProxy, staticCluster, waitFor } from '../../test-util.js';

/** Sends a raw Upgrade request; resolves with the socket and everything read until the header end. */
function handshake(port: number, path: string): Promise<{ sock: Socket; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      sock.removeListener('data', onData);
      resolve({ sock, head: buf.subarray(0, i).toString(), rest: buf.subarray(i + 4) });
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ws.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

function readSome(sock: Socket, n: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const on = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= n) {
        sock.removeListener('data', on);
        resolve(got);
      }
    };
    sock.on('data', on);
  });
}

describe('WebSocket upgrades', () => {
  let backend: Server;
  let backendPort: number;
  let proxy: Proxy;
  let port: number;
  let noWsPort: number;
  let seenUpgrade: IncomingMessage | null = null;
  const tunnels: Socket[] = [];
  const ended = new Set<Socket>();

  before(async () => {
    backend = createServer((req, res) => {
      // /slow never answers: a request there ends by the route timeout.
      if (req.url !== '/slow') res.end('not an upgrade');
    });
    backend.on('upgrade', (req: IncomingMessage, sock: Socket) => {
      seenUpgrade = req;
      tunnels.push(sock);
      sock.once('end', () => ended.add(sock));
      sock.once('close', () => ended.add(sock));
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      sock.on('data', (d: Buffer) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendPort = (backend.address() as AddressInfo).port;
    const routes = routeConfig('r', [
      { match: { prefix: '/' }, route: { cluster: 'ws', timeout: { seconds: 1 } } },
    ]);
    proxy = await startProxy(
      [httpListener('ws', hcm(routes)), httpListener('nows', hcm(routes, { upgradeConfigs: [] }))],
      [staticCluster('ws', [backendPort])],
    );
    port = proxy.listenerPort('ws');
    noWsPort = proxy.listenerPort('nows');
  });

  after(async () => {
    await proxy.close();
    for (const t of tunnels) t.destroy();
    backend.closeAllConnections();
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('completes the 101 handshake and echoes frames both ways, outliving the route timeout', async () => {
    const { sock, head } = await handshake(port, '/chat');
    try {
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /upgrade: websocket/i);
      assert.equal(seenUpgrade?.headers.upgrade, 'websocket');
      assert.equal(seenUpgrade?.url, '/chat');
      sock.write('hello');
      assert.equal(await readSome(sock, 10), 'echo:hello');
      // The tunnel is not cut by the 1 s route timeout: a plain request on the same route, sent after
      // the tunnel opened, gets its 504 from that timeout while the tunnel stays up.
      const timedOut = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = get({ port, host: '127.0.0.1', path: '/slow', headers: { host: 'ws.local' } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      assert.deepEqual(timedOut, { status: 504, body: 'upstream request timeout' });
      sock.write('again');
      assert.equal(await readSome(sock, 10), 'echo:again');
    } finally {
      sock.destroy();
    }
    // Closing the client side tears down the upstream side of the tunnel.
    const up = tunnels.at(-1)!;
    await waitFor('the upstream tunnel socket to close after the client left', () => ended.has(up));
  });

  it('refuses the upgrade with 403 when the HCM has no websocket upgrade config', async () => {
    const { sock, head } = await handshake(noWsPort, '/chat');
    sock.destroy();
    assert.match(head, /^HTTP\/1\.1 403 /);
  });
});
