// The upstream HTTP/1.1 codec against a backend that writes raw bytes: what a server sends is either a
// response to the request in flight or the end of the connection, never the next request's response.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import { get, hcm, httpListener, routeConfig, startProxy, staticCluster, waitFor } from '../../test-util.js';

/** One request head (and body) as the backend read it. */
interface Received {
  head: string;
  body: string;
  socket: Socket;
}

/** What the backend writes for a path (`sock` is the connection, for scripts that write later). */
type Script = (r: Received) => void;

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

const ok = (body: string): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;

const NO_CONTENT = 'HTTP/1.1 204 No Content\r\n\r\n';

const SCRIPTS: Record<string, Script> = {
  '/plain': (r) => r.socket.write(ok('plain')),
  // Two responses for one request, in one write (the second well-formed, so only the codec's rule closes it).
  '/double': (r) => r.socket.write(ok('first') + NO_CONTENT),
  // A response, then a well-formed one on the idle connection a moment later.
  '/late': (r) => {
    r.socket.write(ok('late'));
    setTimeout(() => r.socket.write(NO_CONTENT), 50);
  },
  '/early-hints': (r) =>
    r.socket.write('HTTP/1.1 103 Early Hints\r\nlink: </s.css>\r\n\r\n' + ok('after hints')),
  '/until-close': (r) => r.socket.end('HTTP/1.1 200 OK\r\n\r\nread until the server closes'),
  '/bad-head': (r) => r.socket.write('HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 0\r\n\r\n'),
  '/huge-head': (r) => r.socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
  '/unasked-101': (r) =>
    r.socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\nraw'),
  '/keep-alive-1s': (r) =>
    r.socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'),
  '/no-idle/keep-alive-5s': (r) =>
    r.socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=5\r\ncontent-length: 2\r\n\r\nok'),
  '/truncated': (r) => r.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this'),
  '/echo': (r) => r.socket.write(ok(JSON.stringify({ head: r.head, body: r.body }))),
};

/** A backend that reads request heads (bodies by content-length or chunked) and runs the path's script. */
function rawBackend(): {
  server: Server;
  connections: Socket[];
  closed: Set<Socket>;
  served: { path: string; socket: Socket }[];
} {
  const connections: Socket[] = [];
  const served: { path: string; socket: Socket }[] = [];
  const closed = new Set<Socket>();
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on('close', () => closed.add(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        let rest = buf.slice(end + 4);
        let body = '';
        const cl = /\r\ncontent-length: (\d+)\r\n/i.exec(head);
        if (cl !== null) {
          if (rest.length < Number(cl[1])) return;
          body = rest.slice(0, Number(cl[1]));
          rest = rest.slice(Number(cl[1]));
        } else if (/\r\ntransfer-encoding: chunked\r\n/i.test(head)) {
          const last = rest.indexOf('0\r\n\r\n');
          if (last < 0) return;
          body = rest.slice(0, last + 5);
          rest = rest.slice(last + 5);
        }
        buf = rest;
        const path = head.split(' ')[1];
        served.push({ path, socket });
        (SCRIPTS[path] ?? SCRIPTS['/plain'])({ head, body, socket });
      }
    });
  });
  return { server, connections, closed, served };
}

/** Sends a request with a body written in `parts` (chunked when no content-length is given). */
function send(port: number, path: string, method: string, headers: Record<string, string>, parts: string[]) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('upstream HTTP/1.1 codec against raw server bytes', () => {
  const be = rawBackend();
  let proxy: Proxy;
  let port: number;

  before(async () => {
    await new Promise<void>((r) => be.server.listen(0, '127.0.0.1', r));
    const bePort = (be.server.address() as AddressInfo).port;
    const idle = (idleTimeout: object): Record<string, unknown> => ({
      typedExtensionProtocolOptions: {
        [HTTP_OPTIONS]: {
          '@type': `type.googleapis.com/${HTTP_OPTIONS}`,
          commonHttpProtocolOptions: { idleTimeout },
          explicitHttpConfig: { httpProtocolOptions: {} },
        },
      },
    });
    const routes = routeConfig('r', [
      { match: { prefix: '/short-idle/' }, route: { cluster: 'short-idle' } },
      { match: { prefix: '/no-idle/' }, route: { cluster: 'no-idle' } },
      { match: { prefix: '/' }, route: { cluster: 'raw' } },
    ]);
    proxy = await startProxy(
      [httpListener('l', hcm(routes))],
      [
        staticCluster('raw', [bePort]),
        staticCluster('short-idle', [bePort], idle({ nanos: 200_000_000 })),
        staticCluster('no-idle', [bePort], idle({ seconds: 0 })),
      ],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    for (const s of be.connections) s.destroy();
    await new Promise<void>((r) => be.server.close(() => r()));
  });

  /** The connection the backend read the latest request on. */
  const lastSocket = (): Socket => be.served[be.served.length - 1].socket;

  it('a second response in the same read closes the connection; the next request gets its own', async () => {
    const first = await get(port, '/double');
    const dirty = lastSocket();
    const next = await get(port, '/plain');
    assert.deepEqual([first.status, first.body], [200, 'first']);
    assert.deepEqual([next.status, next.body], [200, 'plain']);
    assert.notEqual(lastSocket(), dirty, 'the connection that carried two responses was used again');
  });

  it('bytes on an idle connection close it, and are never read as a later response', async () => {
    const r = await get(port, '/late');
    assert.deepEqual([r.status, r.body], [200, 'late']);
    const sock = lastSocket();
    await waitFor('the proxy to close a connection that sent unasked bytes', () => be.closed.has(sock), 5000);
    const next = await get(port, '/plain');
    assert.deepEqual([next.status, next.body], [200, 'plain']);
  });

  it('skips a 1xx and forwards the final response', async () => {
    const r = await get(port, '/early-hints');
    assert.deepEqual([r.status, r.body], [200, 'after hints']);
  });

  it('reads a response without framing until the server closes', async () => {
    const r = await get(port, '/until-close');
    assert.deepEqual([r.status, r.body], [200, 'read until the server closes']);
  });

  it('a malformed head, an oversized head or an unasked 101 is a protocol error (502 UPE); the proxy goes on', async () => {
    for (const path of ['/bad-head', '/huge-head', '/unasked-101']) {
      const r = await get(port, path);
      assert.equal(r.status, 502, path);
      assert.match(r.body, /protocol error/, path);
    }
    const next = await get(port, '/plain');
    assert.deepEqual([next.status, next.body], [200, 'plain']);
  });

  it('a body cut short after the head resets the downstream response', async () => {
    await assert.rejects(get(port, '/truncated'));
    const next = await get(port, '/plain');
    assert.equal(next.body, 'plain');
  });

  it('a server Keep-Alive timeout under the one-second margin retires the connection', async () => {
    assert.equal((await get(port, '/keep-alive-1s')).body, 'ok');
    const first = lastSocket();
    assert.equal((await get(port, '/keep-alive-1s')).body, 'ok');
    assert.notEqual(lastSocket(), first);
    await waitFor('the proxy to close the retired connection', () => be.closed.has(first), 5000);
  });

  it('idle_timeout closes a connection idle that long', async () => {
    assert.equal((await get(port, '/short-idle/x')).body, 'plain');
    const sock = lastSocket();
    await waitFor('the proxy to close the idle connection', () => be.closed.has(sock), 5000);
  });

  it('idle_timeout 0s keeps connections, whatever Keep-Alive hint the server sends', async () => {
    assert.equal((await get(port, '/no-idle/keep-alive-5s')).body, 'ok');
    const first = lastSocket();
    assert.equal((await get(port, '/no-idle/keep-alive-5s')).body, 'ok');
    assert.equal(lastSocket(), first);
  });

  it('a body of unknown length goes chunked; a known one with its content-length', async () => {
    const chunked = JSON.parse((await send(port, '/echo', 'POST', {}, ['xyz', 'uvwst'])).body);
    assert.match(chunked.head, /^POST \/echo HTTP\/1\.1\r\nhost: [^\r]+\r\nconnection: keep-alive\r\n/);
    assert.match(chunked.head, /\r\ntransfer-encoding: chunked\r\n/);
    assert.doesNotMatch(chunked.head, /content-length/);
    // Chunk boundaries may merge on the way; the decoded bytes must be the body.
    const decoded = (chunked.body as string).replace(/(?:^|\r\n)[0-9a-f]+\r\n/g, '').replace(/\r\n$/, '');
    assert.equal(decoded, 'xyzuvwst');
    const sized = JSON.parse(
      (await send(port, '/echo', 'PUT', { 'content-length': '5' }, ['he', 'llo'])).body,
    );
    assert.match(sized.head, /\r\ncontent-length: 5\r\n/);
    assert.equal(sized.body, 'hello');
    const empty = JSON.parse((await send(port, '/echo', 'POST', { 'content-length': '0' }, [])).body);
    assert.match(empty.head, /\r\ncontent-length: 0\r\n\r\n$/);
    const plainGet = JSON.parse((await get(port, '/echo')).body);
    assert.doesNotMatch(plainGet.head, /content-length|transfer-encoding/);
  });
});
