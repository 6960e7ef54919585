// Istio's observability tasks on one real local mesh (`mizzen up examples/bookinfo -d --with-prometheus`):
// the real Prometheus scrapes every sidecar's merged :15020 and answers Istio's queries with the traffic split the
// traffic-shifting task set; sidecars write Envoy's default access log, shown by `mizzen logs -c istio-proxy`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  apply,
  cli,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  request,
  runState,
  EXAMPLES,
  type Mesh,
} from './mesh.js';

const NET = 'bookinfo/networking/';

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** One Prometheus instant query: `{ labelValue: value }` by the one grouping label. */
async function promQuery(query: string, by: string): Promise<Record<string, number>> {
  const addr = runState(m()).prometheusAddress;
  assert.ok(addr, 'state.json names no Prometheus');
  const r = await request(`http://${addr}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (r.status !== 200) return {};
  const out: Record<string, number> = {};
  for (const s of JSON.parse(r.body).data.result as {
    metric: Record<string, string>;
    value: [number, string];
  }[])
    out[s.metric[by] ?? ''] = Number(s.value[1]);
  return out;
}

/** Envoy's default access log line (Istio's text format), one capture group per field. */
const ACCESS_LOG_LINE = new RegExp(
  [
    String.raw`^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\]`, // START_TIME
    String.raw`"(GET) (/\S*) (HTTP/1\.1|HTTP/2)"`, // method, path, protocol
    String.raw`(\d{3})`, // RESPONSE_CODE
    String.raw`(-|[A-Z,]+)`, // RESPONSE_FLAGS
    String.raw`(\S+)`, // RESPONSE_CODE_DETAILS
    String.raw`(\S+)`, // CONNECTION_TERMINATION_DETAILS
    String.raw`"([^"]*)"`, // UPSTREAM_TRANSPORT_FAILURE_REASON
    String.raw`(\d+) (\d+) (\d+) (\d+|-)`, // BYTES_RECEIVED BYTES_SENT DURATION upstream service time
    String.raw`"([^"]*)" "([^"]*)" "([0-9a-f-]{36})" "([^"]+)" "([^"]+)"`, // XFF, UA, request id, authority, upstream host
    String.raw`(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$`, // cluster, upstream local, downstream local, remote, SNI, route
  ].join(' '),
);

describe('Istio observability tasks on mizzen up', { timeout: 600_000 }, () => {
  before(async () => {
    mesh = await newMesh();
    await meshUp(mesh, `${EXAMPLES}bookinfo`, ['--with-prometheus', '--scrape-interval', '1']);
  });

  after(() => meshDown(mesh));

  it('writes a file_sd target list of every proxy and the control plane', () => {
    const groups = JSON.parse(readFileSync(join(m().run, 'prometheus', 'targets.json'), 'utf8')) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    const s = runState(m());
    for (const p of s.pods)
      assert.ok(
        groups.some(
          (g) =>
            g.targets[0] === `${p.podIp}:15020` &&
            g.labels.__metrics_path__ === '/stats/prometheus' &&
            g.labels.job === 'kubernetes-pods',
        ),
        `${p.name} is a target`,
      );
    assert.ok(
      groups.some((g) => g.targets[0] === s.debugAddress && g.labels.__metrics_path__ === '/metrics'),
    );
  });

  it('Prometheus answers Istio queries with the split the traffic-shifting task set', async () => {
    await apply(m(), `${NET}destination-rule-all.yaml`, `${NET}virtual-service-reviews-50-v3.yaml`);
    const served: Record<string, number> = {};
    let sent = 0;
    // Count what each page says served it until both v1 and v3 served some (the rule has arrived).
    await eventually(
      'pages from reviews v1 and v3',
      async () => {
        const r = await request(`http://127.0.0.1:${m().gatewayPort}/productpage`);
        sent++;
        const v = /Reviews served by:<\/dt><dd><u>reviews-(v\d)-/.exec(r.body)?.[1] ?? 'none';
        served[v] = (served[v] ?? 0) + 1;
        return (served['v1'] ?? 0) >= 5 && (served['v3'] ?? 0) >= 5 && sent >= 20;
      },
      60_000,
      0,
    );
    // The destination sidecars' counters, scraped, equal what the pages said, version by version.
    const total =
      'sum(istio_requests_total{reporter="destination",destination_service_name="reviews"}) by (destination_version)';
    let seen: Record<string, number> = {};
    await eventually(
      'Prometheus has scraped every request',
      async () => {
        seen = await promQuery(total, 'destination_version');
        return ['v1', 'v2', 'v3'].every((v) => (seen[v] ?? 0) === (served[v] ?? 0));
      },
      30_000,
      500,
      () => `prometheus ${JSON.stringify(seen)}, pages ${JSON.stringify(served)}`,
    );
    // rate() needs two scrapes of a series inside its window: keep traffic flowing until both
    // versions have one (with a 1 s scrape interval this takes a few seconds).
    let rate: Record<string, number> = {};
    await eventually(
      'Prometheus has a request rate for reviews v1 and v3',
      async () => {
        await request(`http://127.0.0.1:${m().gatewayPort}/productpage`);
        rate = await promQuery(
          'sum(rate(istio_requests_total{reporter="destination",destination_service_name="reviews"}[1m])) by (destination_version)',
          'destination_version',
        );
        return rate['v1'] > 0 && rate['v3'] > 0;
      },
      30_000,
      500,
      () => `rates ${JSON.stringify(rate)}`,
    );
    // The caller is known on the destination side through the peer metadata exchange.
    const callers = await promQuery(
      'sum(istio_requests_total{reporter="destination",destination_workload="productpage-v1"}) by (source_workload)',
      'source_workload',
    );
    assert.ok(callers['istio-ingressgateway'] >= sent, JSON.stringify(callers));
  });

  it("mizzen dashboard reads up's Prometheus: the reviews edges with rates, mTLS and the 50/50 split", async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard', '--run-dir', m().run, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      await eventually(
        'the dashboard URL',
        () => /dashboard: http:\/\/\S+\//.test(out),
        20_000,
        100,
        () => out,
      );
      assert.match(out, /metrics from Prometheus at /);
      const url = /dashboard: (http:\/\/\S+\/)/.exec(out)![1];
      type Edge = { source: string; target: string; rps: number; mtls: boolean; configuredWeight?: number };
      let edges: Edge[] = [];
      await eventually(
        'productpage → reviews v1 and v3 from Prometheus',
        async () => {
          const g = JSON.parse((await request(`${url}api/graph?window=5m`)).body) as {
            metrics: string;
            edges: Edge[];
          };
          assert.equal(g.metrics, 'prometheus');
          edges = g.edges.filter(
            (e) => e.source === 'wl:default/productpage-v1' && e.target.includes('reviews'),
          );
          return ['v1', 'v3'].every((v) =>
            edges.some((e) => e.target === `wl:default/reviews-${v}` && e.rps > 0),
          );
        },
        30_000,
        500,
        () => JSON.stringify(edges),
      );
      for (const v of ['v1', 'v3']) {
        const e = edges.find((x) => x.target === `wl:default/reviews-${v}`)!;
        assert.equal(e.configuredWeight, 50);
        assert.equal(e.mtls, true, `${v} is mutual TLS`);
      }
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('mizzen logs POD -c istio-proxy shows Envoy default access log lines, field by field', async () => {
    const pod = runState(m()).pods.find((p) => p.workload === 'productpage-v1')!;
    let lines: string[] = [];
    await eventually(
      'an outbound call to reviews in the access log',
      async () => {
        lines = (await cli(m(), ['logs', pod.name, '-c', 'istio-proxy'])).split('\n');
        return lines.some((l) => l.includes('outbound|9080|') && l.includes('"reviews:9080"'));
      },
      10_000,
    );
    const line = lines.find((l) => l.includes('outbound|9080|') && l.includes('"reviews:9080"'))!;
    const f = ACCESS_LOG_LINE.exec(line);
    assert.ok(f, `not Envoy's default format: ${line}`);
    assert.ok(!Number.isNaN(Date.parse(f[1])), 'START_TIME');
    assert.equal(f[2], 'GET');
    assert.match(f[3], /^\/reviews\/\d+$/);
    assert.equal(f[5], '200');
    assert.equal(f[6], '-');
    assert.equal(f[7], 'via_upstream');
    assert.match(f[18], /^\d+\.\d+\.\d+\.\d+:9080$/, 'upstream host: a reviews pod');
    assert.match(f[19], /^outbound\|9080\|v[13]\|reviews\.default\.svc\.cluster\.local$/);
    // The service's address when captured transparently (pod network), else the HTTP_PROXY listener.
    assert.match(f[21], /^\d+\.\d+\.\d+\.\d+:(9080|15001)$/, 'downstream local address');
    const inbound = lines.find((l) => l.includes('"GET /productpage ') && l.includes(' inbound|9080|| '));
    assert.ok(inbound && ACCESS_LOG_LINE.test(inbound), `an inbound line: ${inbound}`);
  });
});
