// tcp_proxy through a real proxy: bytes forwarded both ways to the cluster; no endpoints closes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import { admin, startProxy, stat, staticCluster } from '../test-util.js';

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

/**
 * The kernel's timer of the established IPv4 socket connected to 127.0.0.1:`remotePort` (the `tr` column
 * of /proc/net/tcp: 0 none, 1 retransmit, 2 keepalive or another timer), or undefined when none is.
 */
function timerTowards(remotePort: number): number | undefined {
  const rem = `0100007F:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[2] === rem && f[3] === '01') return parseInt(f[5].split(':')[0], 16);
  }
  return undefined;
}

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('data', () => resolve());
    s.once('error', reject);
    s.write('hold');
  });
  return s;
}

describe('tcp_proxy', () => {
  let echo: Server;
  let echoKa: Server;
  let proxy: Proxy;

  before(async () => {
    echo = createServer((s) => {
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const ep = (echo.address() as AddressInfo).port;
    echoKa = createServer((s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => echoKa.listen(0, '127.0.0.1', r));
    const kaPort = (echoKa.address() as AddressInfo).port;
    proxy = await startProxy(
      [
        tcpListener('tcp', { statPrefix: 'tcp_echo', cluster: 'echo' }),
        tcpListener('ka', { statPrefix: 'ka', cluster: 'echo-ka' }),
        // DestinationRule connectionPool.tcp.maxConnectionDuration: 300ms, as pilot translates it.
        tcpListener('capped', {
          statPrefix: 'capped',
          cluster: 'echo',
          maxDownstreamConnectionDuration: '0.300s',
        }),
        tcpListener('none', {
          statPrefix: 'none',
          weightedClusters: { clusters: [{ name: 'empty', weight: 1 }] },
        }),
      ],
      [
        staticCluster('echo', [ep]),
        staticCluster('empty', []),
        // DestinationRule connectionPool.tcp.tcpKeepalive.time: 30s, as pilot translates it.
        staticCluster('echo-ka', [kaPort], {
          upstreamConnectionOptions: { tcpKeepalive: { keepaliveTime: 30 } },
        }),
      ],
    );
  });

  after(async () => {
    await proxy.close();
    echo.close();
    echoKa.close();
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

  it('turns TCP keepalive on for upstream connections of a cluster with tcp_keepalive, and only those', async () => {
    const ka = await open(proxy.listenerPort('ka'));
    const plain = await open(proxy.listenerPort('tcp'));
    try {
      // An idle established socket has a kernel timer only when SO_KEEPALIVE is on.
      assert.equal(timerTowards((echoKa.address() as AddressInfo).port), 2, 'keepalive timer on');
      assert.equal(timerTowards((echo.address() as AddressInfo).port), 0, 'no timer without tcp_keepalive');
    } finally {
      ka.destroy();
      plain.destroy();
    }
  });

  it('closes a connection at max_downstream_connection_duration, counting it; others stay open', async () => {
    const capped = await open(proxy.listenerPort('capped'));
    const plain = await open(proxy.listenerPort('tcp'));
    try {
      // An event, not a timing: the cap closes the client's connection (the echo never would).
      await new Promise<void>((resolve) => capped.once('close', () => resolve()));
      assert.equal(await stat(proxy, 'tcp.capped.max_downstream_connection_duration_reached'), 1);
      assert.equal(plain.destroyed, false, 'a connection without the cap is still open');
      assert.equal(await stat(proxy, 'tcp.tcp_echo.max_downstream_connection_duration_reached'), 0);
    } finally {
      capped.destroy();
      plain.destroy();
    }
  });
});
