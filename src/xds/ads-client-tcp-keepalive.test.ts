// The xDS connection's TCP keepalive (Envoy's upstream_connection_options.tcp_keepalive on the bootstrap's
// xDS cluster): the ADS client's socket has SO_KEEPALIVE on when configured, and only then. Read from
// the kernel's own view of the socket (/proc/net/tcp's timer column).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../api/test-util.js';
import { bootstrapFrom } from '../proxy/bootstrap/bootstrap.js';
import { AdsClient } from './ads-client.js';

/** The kernel timer of the established socket from 127.0.0.1:`localPort` (0 none, 2 keepalive), or undefined. */
function timerFrom(localPort: number): number | undefined {
  const local = `0100007F:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === '01') return parseInt(f[5].split(':')[0], 16);
  }
  return undefined;
}

describe('ADS client TCP keepalive', () => {
  let server: Server;
  let port: number;
  /** Client sockets as the server accepted them (their remote port is the client's local port). */
  const accepted: Socket[] = [];

  before(async () => {
    // A control plane that accepts and says nothing: the TCP connection is all this test looks at.
    server = createServer((s) => {
      accepted.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });

  async function connectWith(tcpKeepaliveMs: number | undefined): Promise<number | undefined> {
    const before = accepted.length;
    const client = new AdsClient({
      server: `127.0.0.1:${port}`,
      node: { id: 'test' },
      onResources: () => Promise.resolve(undefined),
      tcpKeepaliveMs,
      log: () => {},
    });
    client.start();
    try {
      await waitFor('the ADS connection', () => accepted.length > before, 10_000);
      return timerFrom(accepted[accepted.length - 1].remotePort!);
    } finally {
      client.close();
    }
  }

  it('turns SO_KEEPALIVE on with tcp_keepalive, and leaves it off without', async () => {
    assert.equal(await connectWith(300_000), 2, 'keepalive timer on');
    assert.equal(await connectWith(undefined), 0, 'no timer without tcp_keepalive');
  });

  it("reads keepalive_time from the bootstrap's xDS cluster (Envoy's 2 h when the message has none)", () => {
    const boot = (ka: Record<string, unknown> | undefined) =>
      bootstrapFrom({
        dynamicResources: {
          adsConfig: { apiType: 'GRPC', grpcServices: [{ envoyGrpc: { clusterName: 'xds' } }] },
        },
        staticResources: {
          clusters: [
            {
              name: 'xds',
              loadAssignment: {
                endpoints: [
                  {
                    lbEndpoints: [
                      { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 1 } } } },
                    ],
                  },
                ],
              },
              ...(ka ? { upstreamConnectionOptions: { tcpKeepalive: ka } } : {}),
            },
          ],
        },
      }).adsTcpKeepaliveMs;
    assert.equal(boot({ keepaliveTime: { value: 300 } }), 300_000);
    assert.equal(boot({}), 7_200_000);
    assert.equal(boot(undefined), -1);
  });
});
