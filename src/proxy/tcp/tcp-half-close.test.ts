// tcp_proxy half-close: a client's FIN reaches the upstream while the upstream's answer still comes
// back; stats count the connection on both sides; an upstream that closes first flushes to the client.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import { admin, startProxy, staticCluster } from '../test-util.js';

function tcpListener(name: string, cluster: string): any {
  return {
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typedConfig: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
              statPrefix: name,
              cluster,
            },
          },
        ],
      },
    ],
  };
}

/** Sends `msg`, half-closes, and collects everything until the proxy closes. */
function sendAndHalfClose(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.end(msg);
  });
}

describe('tcp_proxy half-close', () => {
  let lastWord: Server;
  let talker: Server;
  let proxy: Proxy;

  before(async () => {
    // Answers only once the client has finished sending (it needs the FIN to know).
    lastWord = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => s.end(`got ${got.length} bytes: ${got}`));
      s.on('error', () => {});
    });
    // Speaks first and closes at once.
    talker = createServer((s) => {
      s.on('error', () => {});
      s.end('x'.repeat(256 * 1024));
    });
    for (const srv of [lastWord, talker]) await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv: Server): number => (srv.address() as AddressInfo).port;
    proxy = await startProxy(
      [tcpListener('half', 'last-word'), tcpListener('talker', 'talker')],
      [staticCluster('last-word', [port(lastWord)]), staticCluster('talker', [port(talker)])],
    );
  });

  after(async () => {
    await proxy.close();
    lastWord.close();
    talker.close();
  });

  it("passes the client's FIN upstream and still delivers the answer", async () => {
    for (let i = 0; i < 5; i++)
      assert.equal(
        await sendAndHalfClose(proxy.listenerPort('half'), `line ${i}\n`),
        `got 7 bytes: line ${i}\n`,
      );
    const stats = (await admin(proxy, '/stats?filter=tcp.half|cluster.last-word')).body;
    assert.match(stats, /^tcp\.half\.downstream_cx_total: 5$/m);
    assert.match(stats, /^cluster\.last-word\.upstream_cx_total: 5$/m);
  });

  it('an upstream that sends and closes first: every byte reaches the client', async () => {
    const got = await new Promise<number>((resolve, reject) => {
      const s = connect(proxy.listenerPort('talker'), '127.0.0.1');
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('close', () => resolve(n));
      s.on('error', reject);
    });
    assert.equal(got, 256 * 1024);
  });
});
