// tcp_proxy through a real proxy: bytes forwarded both ways to the cluster; no endpoints closes.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import { admin, startProxy, staticCluster } from '../test-util.js';

function tcpListener(name: string, cfg: Record<string, unknown>): any {
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
              ...cfg,
            },
          },
        ],
      },
    ],
  };
}

function roundTrip(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= msg.length + 5) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(msg);
  });
}

describe('tcp_proxy', () => {
  let echo: Server;
  let proxy: Proxy;

  before(async () => {
    echo = createServer((s) => {
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const ep = (echo.address() as AddressInfo).port;
    proxy = await startProxy(
      [
        tcpListener('tcp', { statPrefix: 'tcp_echo', cluster: 'echo' }),
        tcpListener('none', {
          statPrefix: 'none',
          weightedClusters: { clusters: [{ name: 'empty', weight: 1 }] },
        }),
      ],
      [staticCluster('echo', [ep]), staticCluster('empty', [])],
    );
  });

  after(async () => {
    await proxy.close();
    echo.close();
  });

  it('forwards bytes both ways', async () => {
    assert.equal(await roundTrip(proxy.listenerPort('tcp'), 'ping'), 'echo:ping');
    const s = (await admin(proxy, '/stats?filter=tcp_echo|cluster.echo')).body;
    assert.match(s, /^tcp\.tcp_echo\.downstream_cx_total: 1$/m);
    assert.match(s, /^cluster\.echo\.upstream_cx_total: 1$/m);
  });

  it('closes the connection when the cluster has no healthy host', async () => {
    assert.equal(await roundTrip(proxy.listenerPort('none'), 'ping'), '');
  });
});
