// One HTTP/2 packet must end only its own stream: HEADERS with RST_STREAM in the same read, DATA that
// disagrees with content-length and WINDOW_UPDATE overflows are reset, and the proxy keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
  waitFor,
} from '../../test-util.js';
import { exchange, FrameType, h2Frame, h2Request, parseFrames, u32 } from './raw-wire.js';

describe('HTTP/2 stream errors in the first read', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    backend = await startBackend('b');
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'b' } }]);
    proxy = await startProxy([httpListener('h', hcm(routes))], [staticCluster('b', [backend.port])]);
    port = proxy.listenerPort('h');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  /** Sends one packet, closes, waits until the proxy let go of the connection, then checks it serves. */
  async function survives(packet: Buffer): Promise<Buffer> {
    // A PING after the packet: its ACK says the proxy has processed everything before it.
    const ping = h2Frame(FrameType.Ping, 0, 0, Buffer.alloc(8));
    const got = await exchange(port, Buffer.concat([packet, ping]), (b) =>
      parseFrames(b).some((f) => f.type === FrameType.Ping && f.flags === 1),
    );
    await waitFor('connection closed', async () =>
      /downstream_cx_active: 0/.test(
        (await admin(proxy, '/stats?filter=http.test_http.downstream_cx_active')).body,
      ),
    );
    const r = await get(port, '/after', {}, 'GET').catch((e: Error) => ({ status: 0, body: e.message }));
    assert.equal(r.status, 200, `proxy stopped answering: ${r.body}`);
    return got;
  }

  for (const code of [1, 2, 7, 8]) {
    it(`survives HEADERS + RST_STREAM(${code}) in one packet`, async () => {
      const pkt = Buffer.concat([
        h2Request('POST', '/upload', [['content-length', '5']], false),
        h2Frame(FrameType.RstStream, 0, 1, u32(code)),
      ]);
      await survives(pkt);
    });
  }

  it('resets the stream whose DATA disagrees with content-length', async () => {
    const pkt = Buffer.concat([
      h2Request('POST', '/upload', [['content-length', '5']], false),
      h2Frame(FrameType.Data, 0x1, 1, Buffer.from('0123456789')),
    ]);
    const got = await survives(pkt);
    const frames = parseFrames(got);
    assert.ok(
      frames.some((f) => f.streamId === 1 && f.type === FrameType.RstStream),
      `no RST_STREAM on stream 1: ${JSON.stringify(frames.map((f) => [f.type, f.streamId]))}`,
    );
    assert.ok(!backend.seen.some((s) => s.body === '0123456789'), 'the oversized body reached the backend');
  });

  it('survives a WINDOW_UPDATE that overflows the stream window', async () => {
    const pkt = Buffer.concat([
      h2Request('POST', '/upload', [['content-length', '5']], false),
      h2Frame(FrameType.WindowUpdate, 0, 1, u32(0x7fffffff)),
      h2Frame(FrameType.WindowUpdate, 0, 1, u32(0x7fffffff)),
    ]);
    await survives(pkt);
  });

  it('survives a connection-level WINDOW_UPDATE overflow', async () => {
    const pkt = Buffer.concat([
      h2Request('GET', '/'),
      h2Frame(FrameType.WindowUpdate, 0, 0, u32(0x7fffffff)),
      h2Frame(FrameType.WindowUpdate, 0, 0, u32(0x7fffffff)),
    ]);
    await survives(pkt);
  });
});
