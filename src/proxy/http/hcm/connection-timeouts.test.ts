// Slow and stuck clients are let go: request_headers_timeout (slowloris), stream_idle_timeout during
// the header phase, request_timeout, the connection idle_timeout, and an HTTP/1.1 connection whose
// upload is still running when the (early) response ended.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  admin,
  hcm,
  httpListener,
  routeConfig,
  startProxy,
  staticCluster,
  waitFor,
} from '../../test-util.js';

/** A raw client connection that records what it received and whether it closed. */
class RawClient {
  readonly sock: Socket;
  got = '';
  closed = false;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => (this.got += d.toString()));
    this.sock.on('error', () => {});
    this.sock.on('close', () => (this.closed = true));
  }
  /** Writes `text` one byte per `everyMs` until the connection closes. */
  trickle(text: string, everyMs: number): void {
    let i = 0;
    const t = setInterval(() => {
      if (this.closed || i >= text.length) return clearInterval(t);
      this.sock.write(text[i++]);
    }, everyMs);
  }
}

async function stat(proxy: Proxy, name: string): Promise<number> {
  const body = (await admin(proxy, `/stats?filter=^http\\.test_http\\.${name}$`)).body;
  return Number(/: (\d+)/.exec(body)?.[1] ?? 0);
}

describe('downstream timeouts', () => {
  let upstream: Server;
  let upPort: number;
  const proxies: Proxy[] = [];

  before(async () => {
    // Answers at once without reading the request body (413 for /too-big, else 200); /slow-upload
    // reads the whole body first.
    upstream = createServer((req, res) => {
      const answer = (): void => {
        res.writeHead(req.url === '/too-big' ? 413 : 200, { 'content-length': '2' });
        res.end('ok');
      };
      if (req.url === '/slow-upload') req.resume().on('end', answer);
      else answer();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
  });

  after(async () => {
    for (const p of proxies) await p.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  async function proxyWith(extra: Record<string, unknown>): Promise<{ proxy: Proxy; port: number }> {
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }]);
    const proxy = await startProxy([httpListener('l', hcm(routes, extra))], [staticCluster('up', [upPort])]);
    proxies.push(proxy);
    return { proxy, port: proxy.listenerPort('l') };
  }

  it('request_headers_timeout answers a slowloris with 408 and closes it', async () => {
    const { proxy, port } = await proxyWith({ requestHeadersTimeout: '0.3s' });
    const c = new RawClient(port);
    c.trickle('GET / HTTP/1.1\r\nHost: a\r\nx-slow: ' + 'a'.repeat(1000), 20);
    await waitFor('the slow connection to close', () => c.closed);
    assert.match(c.got, /^HTTP\/1\.1 408 /);
    assert.equal(await stat(proxy, 'downstream_rq_header_timeout'), 1);
    await waitFor('downstream_cx_active 0', async () => (await stat(proxy, 'downstream_cx_active')) === 0);
  });

  it('header-phase 408s write an access-log line with the code, flag and details (as Envoy)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mz-408-log-'));
    const path = join(dir, 'access.log');
    const accessLog = [
      {
        name: 'envoy.access_loggers.file',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path,
          logFormat: {
            textFormatSource: {
              inlineString:
                '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %REQ(:METHOD)% %BYTES_RECEIVED% %DOWNSTREAM_REMOTE_ADDRESS%\n',
            },
          },
        },
      },
    ];
    try {
      const { port } = await proxyWith({
        requestHeadersTimeout: '0.3s',
        streamIdleTimeout: '60s',
        accessLog,
      });
      const slow = new RawClient(port);
      const slowPort = await waitFor('the slow client to connect', () => slow.sock.localPort);
      slow.trickle('GET / HTTP/1.1\r\nHost: a\r\nx-slow: ' + 'a'.repeat(1000), 20);
      await waitFor('the slow connection to close', () => slow.closed);
      const { port: idlePort } = await proxyWith({ streamIdleTimeout: '0.3s', accessLog });
      const stalled = new RawClient(idlePort);
      const stalledPort = await waitFor('the stalled client to connect', () => stalled.sock.localPort);
      stalled.sock.write('GET / HTTP/1.1\r\nHost: a\r\n');
      await waitFor('the stalled connection to close', () => stalled.closed);
      const lines = await waitFor('two access-log lines', () => {
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          return null;
        }
        const ls = text.trim().split('\n');
        return ls.length >= 2 ? ls : null;
      });
      const byPort = (p: number): string => lines.find((l) => l.endsWith(`127.0.0.1:${p}`)) ?? '';
      // Envoy: request_header_timeout has no response flag; the header-phase stream idle timeout is SI.
      assert.match(
        byPort(slowPort),
        /^408 - request_header_timeout - [1-9]\d* 127\.0\.0\.1:\d+$/,
        lines.join('\n'),
      );
      assert.match(
        byPort(stalledPort),
        /^408 SI stream_idle_timeout - 25 127\.0\.0\.1:\d+$/,
        lines.join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stream_idle_timeout covers the header phase', async () => {
    const { proxy, port } = await proxyWith({ streamIdleTimeout: '0.3s' });
    const c = new RawClient(port);
    c.sock.write('GET / HTTP/1.1\r\nHost: a\r\n');
    await waitFor('the stalled connection to close', () => c.closed);
    assert.match(c.got, /^HTTP\/1\.1 408 /);
    assert.equal(await stat(proxy, 'downstream_rq_idle_timeout'), 1);
  });

  it('request_timeout answers 408 to a request whose body stalls', async () => {
    const { proxy, port } = await proxyWith({ requestTimeout: '0.3s' });
    const c = new RawClient(port);
    c.sock.write('POST /slow-upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhalf');
    await waitFor('the stalled upload to be closed', () => c.closed);
    assert.match(c.got, /^HTTP\/1\.1 408 /);
    assert.match(c.got, /request timeout/);
    assert.equal(await stat(proxy, 'downstream_rq_timeout'), 1);
  });

  it('idle_timeout closes a keep-alive connection without requests', async () => {
    const { proxy, port } = await proxyWith({ commonHttpProtocolOptions: { idleTimeout: '0.3s' } });
    const c = new RawClient(port);
    c.sock.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor('the response', () => c.got.includes('ok'));
    await waitFor('the idle connection to close', () => c.closed);
    assert.equal(await stat(proxy, 'downstream_cx_idle_timeout'), 1);
  });

  for (const path of ['/too-big', '/early-ok']) {
    it(`closes the connection when ${path} answers before the upload ended`, async () => {
      const { proxy, port } = await proxyWith({});
      const c = new RawClient(port);
      const total = 64 * 1024 * 1024;
      c.sock.write(`POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (!c.closed && sent < total) {
          sent += chunk.length;
          if (!c.sock.write(chunk)) return void c.sock.once('drain', pump);
        }
      };
      pump();
      await waitFor('the proxy to close the unfinished upload', () => c.closed, 20_000);
      assert.match(c.got, path === '/too-big' ? /^HTTP\/1\.1 413 / : /^HTTP\/1\.1 200 /);
      assert.ok(sent < total, 'the whole body was taken');
      await waitFor('downstream_cx_active 0', async () => (await stat(proxy, 'downstream_cx_active')) === 0);
    });
  }
});
