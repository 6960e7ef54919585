// Istio's TCP metrics through a real proxy: an open connection reports its bytes every
// tcp_reporting_duration (Istio's reportingInterval), before it closes; the close adds only the rest.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { structFromJson } from '../../xds/struct.js';
import type { Proxy } from '../proxy.js';
import { admin, startProxy, staticCluster, waitFor } from '../test-util.js';

const CLUSTER = 'outbound|9000||echo.default.svc.cluster.local';

let echo: Server;
let proxy: Proxy;

before(async () => {
  echo = createServer((s) => {
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const stats = {
    name: 'istio.stats',
    typedConfig: {
      '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
      typeUrl: 'type.googleapis.com/stats.PluginConfig',
      value: structFromJson({ direction: 'OUTBOUND', tcp_reporting_duration: '0.05s' }),
    },
  };
  const tcp = {
    name: 'envoy.filters.network.tcp_proxy',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      statPrefix: 'echo',
      cluster: CLUSTER,
    },
  };
  proxy = await startProxy(
    [
      {
        name: 'tcp',
        address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
        filterChains: [{ filters: [stats, tcp] }],
      },
    ],
    [staticCluster(CLUSTER, [(echo.address() as AddressInfo).port])],
  );
});

after(async () => {
  await proxy.close();
  echo.close();
});

/** The value of the one `metric` series for the echo service; 0 when absent. */
async function metric(name: string): Promise<number> {
  const body = (await admin(proxy, '/stats/prometheus')).body;
  const line = body
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.includes('destination_service_name="echo"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

it('an open connection reports its bytes every tcp_reporting_duration; the close adds the rest once', async () => {
  const s: Socket = connect(proxy.listenerPort('tcp'), '127.0.0.1');
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString()));
  s.write('hello\n');
  await waitFor('the echo', () => got === 'echo:hello\n');
  // Still open: the periodic report has the 6 bytes received and 11 sent.
  await waitFor('bytes reported while the connection is open', async () => {
    return (
      (await metric('istio_tcp_received_bytes_total')) === 6 &&
      (await metric('istio_tcp_sent_bytes_total')) === 11
    );
  });
  assert.equal(await metric('istio_tcp_connections_opened_total'), 1);
  assert.equal(await metric('istio_tcp_connections_closed_total'), 0, 'not closed yet');
  s.write('bye\n');
  await waitFor('the second echo', () => got.endsWith('echo:bye\n'));
  s.end();
  await waitFor('the close counted', async () => (await metric('istio_tcp_connections_closed_total')) === 1);
  assert.equal(await metric('istio_tcp_received_bytes_total'), 10, 'hello\\n + bye\\n, each byte once');
  assert.equal(await metric('istio_tcp_sent_bytes_total'), 20);
});
