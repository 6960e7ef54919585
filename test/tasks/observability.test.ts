// Istio's observability tasks on one real local mesh (`mizzen up examples/bookinfo -d --with-prometheus`):
// the real Prometheus scrapes every sidecar's merged :15020 and answers Istio's queries with the traffic split the
// traffic-shifting task set; sidecars write Envoy's default access log, shown by `mizzen logs -c istio-proxy`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  prometheusQuery,
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

/** One instant query against the mesh's Prometheus, by the one grouping label. */
const promQuery = (query: string, by: string, at?: number): Promise<Record<string, number>> =>
  prometheusQuery(m(), query, by, at);

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
        // Only a page productpage served passed its sidecar (a 503 from the gateway while the new
        // rules arrive never reached it).
        if (r.status === 200) sent++;
        const v = /Reviews served by:<\/dt><dd><u>reviews-(v\d)-/.exec(r.body)?.[1] ?? 'none';
        served[v] = (served[v] ?? 0) + 1;
        return (served['v1'] ?? 0) >= 5 && (served['v3'] ?? 0) >= 5 && sent >= 20;
      },
      60_000,
      0,
    );
    // The destination sidecars' counters, scraped, equal what the pages said, version by version: the
    // answers reviews gave (200) — a call that failed first (productpage retries reviews once; CI saw
    // 13 v3 requests behind 12 v3 pages) is its own series.
    const total =
      'sum(istio_requests_total{reporter="destination",destination_service_name="reviews",response_code="200"}) by (destination_version)';
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
    // The caller is known on the destination side through the peer metadata exchange (productpage's
    // own target may be scraped a moment after the reviews targets waited for above).
    let callers: Record<string, number> = {};
    await eventually(
      "the gateway named as productpage's caller for every page",
      async () => {
        callers = await promQuery(
          'sum(istio_requests_total{reporter="destination",destination_workload="productpage-v1"}) by (source_workload)',
          'source_workload',
        );
        return callers['istio-ingressgateway'] >= sent;
      },
      30_000,
      500,
      () => `callers ${JSON.stringify(callers)}, pages ${sent}`,
    );
    assert.deepEqual(Object.keys(callers), ['istio-ingressgateway'], 'no unknown caller');
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

  it("Grafana's Istio dashboards' core queries return data from the real Prometheus", async () => {
    const svc = 'reviews.default.svc.cluster.local';
    // The queries as Istio's mesh, service and workload dashboards write them (dashboard variables
    // filled in: reporter destination, service reviews, workload productpage-v1 in default).
    // Every query of one round is evaluated at the same instant: irate() takes the last two samples in
    // its window, so quantiles asked a scrape apart came from different data (CI saw p50 > p90).
    let at = 0;
    const scalar = async (q: string): Promise<number> => (await promQuery(q, '', at))[''] ?? NaN;
    const volume = 'round(sum(irate(istio_requests_total{reporter="source"}[1m])), 0.001)';
    const success =
      'sum(rate(istio_requests_total{reporter="source", response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{reporter="source"}[1m]))';
    const svcVolume = `round(sum(irate(istio_requests_total{reporter=~"destination",destination_service=~"${svc}"}[5m])), 0.001)`;
    const svcSuccess = `sum(irate(istio_requests_total{reporter=~"destination",destination_service=~"${svc}",response_code!~"5.*"}[5m])) / sum(irate(istio_requests_total{reporter=~"destination",destination_service=~"${svc}"}[5m]))`;
    const svcQuantile = (q: number): string =>
      `(histogram_quantile(${q}, sum(irate(istio_request_duration_milliseconds_bucket{reporter=~"destination",destination_service=~"${svc}"}[1m])) by (le)) / 1000)`;
    const wlVolume =
      'round(sum(irate(istio_requests_total{reporter=~"destination",destination_workload_namespace=~"default",destination_workload=~"productpage-v1"}[5m])), 0.001)';
    const wlQuantile = (q: number): string =>
      `histogram_quantile(${q}, sum(rate(istio_request_duration_milliseconds_bucket{reporter="source"}[1m])) by (le, destination_workload, destination_workload_namespace))`;
    let got: Record<string, number> = {};
    // irate() needs two samples of a series in its window: keep traffic flowing until every query has one.
    await eventually(
      'every dashboard query answers',
      async () => {
        await request(`http://127.0.0.1:${m().gatewayPort}/productpage`);
        at = Date.now() / 1000;
        got = {
          volume: await scalar(volume),
          success: await scalar(success),
          svcVolume: await scalar(svcVolume),
          svcSuccess: await scalar(svcSuccess),
          p50: await scalar(svcQuantile(0.5)),
          p90: await scalar(svcQuantile(0.9)),
          p99: await scalar(svcQuantile(0.99)),
          wlVolume: await scalar(wlVolume),
        };
        return Object.values(got).every((v) => Number.isFinite(v) && v > 0);
      },
      60_000,
      500,
      () => JSON.stringify(got),
    );
    assert.equal(got.success, 1, 'bookinfo answers no 5xx');
    assert.equal(got.svcSuccess, 1);
    assert.ok(got.p50 <= got.p90 && got.p90 <= got.p99, JSON.stringify(got));
    // The mesh dashboard's table: p99 by destination workload, one row per workload called.
    // rate() of a workload's series needs an increase between two of its scrapes inside the window:
    // with the 50/50 split one version can go a few requests without traffic, so keep it flowing.
    const workloads = ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v3', 'ratings-v1'];
    let byWorkload: Record<string, number> = {};
    await eventually(
      'a p99 for every workload called',
      async () => {
        await request(`http://127.0.0.1:${m().gatewayPort}/productpage`);
        byWorkload = await promQuery(wlQuantile(0.99), 'destination_workload');
        return workloads.every((w) => byWorkload[w] > 0);
      },
      60_000,
      500,
      () => `p99 by workload ${JSON.stringify(byWorkload)}`,
    );
  });

  it("the control plane's istiod metrics are scraped (Istio's pilot dashboard)", async () => {
    const pushes = await promQuery('sum(pilot_xds_pushes{app="istiod"}) by (type)', 'type');
    for (const t of ['cds', 'eds', 'lds', 'rds'])
      assert.ok(pushes[t] > 0, `pilot_xds_pushes ${JSON.stringify(pushes)}`);
    const connected = await promQuery('sum(pilot_xds{app="istiod"})', '');
    assert.equal(connected[''], runState(m()).pods.length + 1, 'every sidecar and the gateway');
    const converged = await promQuery('sum(pilot_proxy_convergence_time_count)', '');
    assert.ok(converged[''] > 0, JSON.stringify(converged));
    const p99 = await promQuery(
      'histogram_quantile(0.99, sum(rate(pilot_proxy_convergence_time_bucket[1m])) by (le))',
      '',
    );
    assert.ok('' in p99, `the convergence quantile query answers one series: ${JSON.stringify(p99)}`);
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
