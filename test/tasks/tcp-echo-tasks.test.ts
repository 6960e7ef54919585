// Istio's TCP traffic shifting task on a real local mesh: `mizzen up examples/tcp-echo -d`, the ingress gateway's
// TCP port 31400 (published as is: it is not below 1024), all connections to v1, then 20% to v2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canBind } from '../../src/local/ports.js';
import {
  apply,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  request,
  runState,
  tally,
  tcpLine,
  EXAMPLES,
  type Mesh,
} from './mesh.js';

const NET = 'tcp-echo/networking/';
const TCP_PORT = 31400;

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** Where the gateway publishes Gateway port 31400 (state.json; 31400 itself as ports >= 1024 are not moved). */
function publishedTcpPort(): number {
  return runState(m()).gateway.ports.find((p) => p.port === TCP_PORT)?.published ?? TCP_PORT;
}

/** `n` connections through the gateway, one after another: the first word of each answer (`one`/`two`, '' for none). */
async function connections(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = await tcpLine(publishedTcpPort(), `hello ${i}`);
    out.push(line === `one hello ${i}` ? 'one' : line === `two hello ${i}` ? 'two' : `?${line}`);
  }
  return out;
}

describe('Istio TCP traffic shifting task on mizzen up', { timeout: 300_000 }, () => {
  before(async () => {
    // The gateway binds 127.0.0.1:31400; another run using it would make this test meaningless.
    await eventually(`127.0.0.1:${TCP_PORT} free`, () => canBind('127.0.0.1', TCP_PORT), 60_000, 500);
    mesh = await newMesh();
    await meshUp(mesh, `${EXAMPLES}tcp-echo`);
  });

  after(() => meshDown(mesh));

  it('tcp-echo-all-v1: every connection through gateway port 31400 reaches v1 ("one")', async (t) => {
    t.diagnostic(`mizzen up -d examples/tcp-echo: "all ready in ${m().readySeconds}s"`);
    await apply(m(), `${NET}tcp-echo-all-v1.yaml`);
    let last = '';
    await eventually(
      'the gateway answers on 31400',
      async () => (last = await tcpLine(publishedTcpPort(), 'ping', 2000)) === 'one ping',
      30_000,
      200,
      () => `(last answer: ${JSON.stringify(last)})`,
    );
    assert.equal(publishedTcpPort(), TCP_PORT, 'ports >= 1024 are published unchanged');
    const answers = await connections(20);
    assert.deepEqual(tally(answers), { one: 20 }, 'all traffic to tcp-echo v1');
  });

  it('tcp-echo-20-v2: about 20% of connections reach v2 ("two")', async (t) => {
    await apply(m(), `${NET}tcp-echo-20-v2.yaml`);
    await eventually('a connection reaches v2', async () => (await connections(1))[0] === 'two', 30_000, 0);
    const answers = tally(await connections(200));
    t.diagnostic(`200 connections: ${JSON.stringify(answers)}`);
    assert.equal((answers['one'] ?? 0) + (answers['two'] ?? 0), 200, JSON.stringify(answers));
    // Binomial(200, 0.2): mean 40, sd 5.7; [15, 70] is beyond ±4 sd.
    assert.ok(answers['two'] >= 15 && answers['two'] <= 70, `about 20% to v2: ${JSON.stringify(answers)}`);
  });

  it('a client that half-closes after its line (`nc -N`) still gets the answer', async () => {
    // Envoy's tcp_proxy passes the FIN on to tcp-echo and keeps the way back open until tcp-echo closes.
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await tcpLine(publishedTcpPort(), `bye ${i}`, 5000, true));
    for (const [i, a] of answers.entries())
      assert.match(a, new RegExp(`^(one|two) bye ${i}$`), JSON.stringify(answers));
  });

  it("reports Istio's TCP metrics: connections opened/closed and bytes, on the gateway and the server's sidecar", async () => {
    const s = runState(m());
    const gw = `http://127.0.0.1:${s.gateway.adminPort}/stats/prometheus`;
    const v1 = s.pods.find((p) => p.workload === 'tcp-echo-v1')!;
    const server = `http://${v1.podIp}:15090/stats/prometheus`;
    /** Sum of a metric's series whose labels include every `label="value"` given. */
    const sum = async (url: string, metric: string, labels: string[]): Promise<number> => {
      const body = (await request(url)).body;
      let total = 0;
      for (const line of body.split('\n'))
        if (line.startsWith(`${metric}{`) && labels.every((l) => line.includes(l)))
          total += Number(line.split(' ').pop());
      return total;
    };
    const dest = 'destination_service="tcp-echo.default.svc.cluster.local"';
    const src = [
      'reporter="source"',
      'source_workload="istio-ingressgateway"',
      dest,
      'request_protocol="tcp"',
    ];
    const before = await sum(gw, 'istio_tcp_connections_closed_total', src);
    const sent = await connections(5);
    assert.equal(sent.filter((w) => w.startsWith('?')).length, 0, sent.join(','));
    await eventually(
      'the gateway counted the 5 connections as closed',
      async () => (await sum(gw, 'istio_tcp_connections_closed_total', src)) >= before + 5,
      30_000,
    );
    assert.ok((await sum(gw, 'istio_tcp_connections_opened_total', src)) >= before + 5);
    // Each connection sends "hello N\n" (8 bytes) and gets "one hello N\n" or "two hello N\n" back.
    assert.ok((await sum(gw, 'istio_tcp_received_bytes_total', src)) >= 5 * 8);
    assert.ok((await sum(gw, 'istio_tcp_sent_bytes_total', src)) >= 5 * 12);
    // The server side reports as destination, with its own workload labels.
    const dst = [
      'reporter="destination"',
      'destination_workload="tcp-echo-v1"',
      'destination_app="tcp-echo"',
      dest,
    ];
    await eventually(
      'tcp-echo-v1 reported its connections as destination',
      async () => (await sum(server, 'istio_tcp_connections_closed_total', dst)) >= 1,
      30_000,
    );
    assert.ok((await sum(server, 'istio_tcp_sent_bytes_total', dst)) >= 12);
    // The metadata exchange (ALPN istio-peer-exchange inside mutual TLS) names the peer on both sides.
    await eventually(
      'tcp-echo-v1 names the gateway as the source workload',
      async () =>
        (await sum(server, 'istio_tcp_connections_closed_total', [
          ...dst,
          'source_workload="istio-ingressgateway"',
          'source_workload_namespace="istio-system"',
        ])) >= 1,
      30_000,
    );
    assert.ok(
      (await sum(gw, 'istio_tcp_connections_closed_total', [...src, 'destination_app="tcp-echo"'])) >= 5,
      'the gateway names the destination workload',
    );
    assert.equal(
      await sum(gw, 'istio_tcp_connections_opened_total', [...src, 'destination_workload="unknown"']),
      0,
    );
    assert.equal(
      await sum(server, 'istio_tcp_connections_opened_total', [...dst, 'source_workload="unknown"']),
      0,
    );
  });
});
