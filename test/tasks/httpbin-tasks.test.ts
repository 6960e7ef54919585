// Istio's circuit-breaking and mirroring tasks on one real local mesh: `mizzen up examples/httpbin -d`, the
// sleep client applied beside it, load from sleep via `mizzen exec`, the sleep sidecar's /stats, `mizzen logs`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  apply,
  cli,
  eventually,
  meshDown,
  meshUp,
  mizzen,
  newMesh,
  podOf,
  request,
  waitPodReady,
  EXAMPLES,
  type Mesh,
} from './mesh.js';
import { waitUntil } from '../../src/local/readiness.js';

const NET = 'httpbin/networking/';
const CLUSTER = 'outbound|8000||httpbin.default.svc.cluster.local';

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** `mizzen exec sleep -- node examples/sleep/load.mjs ARGS`: the status counts it prints (`{ '200': 13, '503': 17 }`). */
async function load(args: string[]): Promise<{ codes: Record<string, number>; out: string }> {
  const r = await mizzen([
    'exec',
    'sleep',
    '--run-dir',
    m().run,
    '--',
    process.execPath,
    `${EXAMPLES}sleep/load.mjs`,
    ...args,
  ]);
  assert.equal(r.code, 0, r.out + r.err);
  const codes: Record<string, number> = {};
  for (const x of r.out.matchAll(/^(Code \d+|Error \S+) : (\d+) /gm))
    codes[x[1].replace('Code ', '')] = Number(x[2]);
  return { codes, out: r.out };
}

/** A counter (or gauge) of the sleep sidecar's admin /stats; 0 when absent. */
async function sleepStat(name: string): Promise<number> {
  const r = await request(`http://127.0.0.1:${podOf(m(), 'sleep').sidecar.adminPort}/stats`);
  assert.equal(r.status, 200);
  const line = r.body.split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** The sum of every `metric` series on the sleep sidecar's Prometheus endpoint whose labels include `want`. */
async function sleepMetric(metric: string, want: Record<string, string>): Promise<number> {
  const r = await request(`http://${podOf(m(), 'sleep').podIp}:15020/stats/prometheus`);
  assert.equal(r.status, 200);
  let sum = 0;
  for (const line of r.body.split('\n'))
    if (
      line.startsWith(`${metric}{`) &&
      Object.entries(want).every(([k, v]) => line.includes(`,${k}="${v}"`))
    )
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** One request from the sleep pod: through its sidecar's HTTP proxy, as its apps send them. */
function fromSleep(path: string, timeoutMs = 10_000) {
  return request(`http://httpbin:8000${path}`, { proxy: `${podOf(m(), 'sleep').podIp}:15001`, timeoutMs });
}

/** How many requests for `path` a Deployment's app logged (`mizzen logs deploy/NAME`). */
async function logged(deployment: string, path: string): Promise<number> {
  const out = await cli(m(), ['logs', `deploy/${deployment}`]);
  return out.split('\n').filter((l) => l.includes(`"GET ${path} HTTP/1.1" 200`)).length;
}

describe('Istio circuit breaking and mirroring tasks on mizzen up', { timeout: 600_000 }, () => {
  before(async () => {
    mesh = await newMesh();
    // Host network mode: the test itself talks to the sleep pod's sidecar as an HTTP proxy and admin.
    await meshUp(mesh, `${EXAMPLES}httpbin`, ['--network', 'host']);
    await apply(mesh, 'sleep/sleep.yaml');
    await waitPodReady(mesh, 'sleep');
  });

  after(() => meshDown(mesh));

  it('circuit breaking: 1 connection + 1 pending request; 3 concurrent callers trip it, overflow counted', async (t) => {
    t.diagnostic(`mizzen up -d examples/httpbin: "all ready in ${m().readySeconds}s"`);
    await apply(m(), `${NET}destination-rule-httpbin-circuit-breaker.yaml`);
    // As `istioctl proxy-config cluster` would show: the sleep sidecar has the limits.
    const admin = podOf(m(), 'sleep').sidecar.adminPort;
    await eventually(
      'the sleep sidecar has the circuit breaker',
      async () =>
        (await request(`http://127.0.0.1:${admin}/clusters`)).body.includes(
          `${CLUSTER}::default_priority::max_connections::1\n`,
        ),
      30_000,
    );
    const one = await load(['-n', '1', 'http://httpbin:8000/get']);
    assert.deepEqual(one.codes, { '200': 1 }, one.out);

    const before = await sleepStat(`cluster.${CLUSTER}.upstream_rq_pending_overflow`);
    const UO = { destination_service_name: 'httpbin', response_code: '503', response_flags: 'UO' };
    const uoBefore = await sleepMetric('istio_requests_total', UO);
    // Two callers fit (1 active + 1 pending): Istio's task sees almost all succeed.
    const two = await load(['-c', '2', '-n', '20', 'http://httpbin:8000/get']);
    t.diagnostic(`-c 2 -n 20: ${JSON.stringify(two.codes)}`);
    assert.equal((two.codes['200'] ?? 0) + (two.codes['503'] ?? 0), 20, two.out);
    assert.ok((two.codes['200'] ?? 0) >= 10, `most succeed: ${two.out}`);
    // Three do not: the third is rejected with 503 (pending overflow).
    const three = await load(['-c', '3', '-n', '30', 'http://httpbin:8000/get']);
    t.diagnostic(`-c 3 -n 30: ${JSON.stringify(three.codes)}`);
    assert.equal((three.codes['200'] ?? 0) + (three.codes['503'] ?? 0), 30, three.out);
    assert.ok((three.codes['503'] ?? 0) >= 1, `some are trapped by the circuit breaker: ${three.out}`);
    assert.ok((three.codes['200'] ?? 0) >= 1, `some get through: ${three.out}`);
    const overflow = (await sleepStat(`cluster.${CLUSTER}.upstream_rq_pending_overflow`)) - before;
    t.diagnostic(`upstream_rq_pending_overflow +${overflow}`);
    assert.equal(
      overflow,
      (two.codes['503'] ?? 0) + (three.codes['503'] ?? 0),
      'every 503 is a pending overflow (none from an ejected host)',
    );

    // An overflow answer is Envoy's: 503 with x-envoy-overloaded.
    const burst = await Promise.all([1, 2, 3, 4].map(() => fromSleep('/delay/1')));
    const rejected = burst.filter((r) => r.status === 503);
    assert.ok(rejected.length >= 1, `4 concurrent /delay/1: ${burst.map((r) => r.status).join(',')}`);
    for (const r of rejected) assert.equal(r.headers['x-envoy-overloaded'], 'true');
    assert.ok(burst.some((r) => r.status === 200));
    // Istio's metrics show each trapped request as response_code="503", response_flags="UO" (upstream
    // overflow) on the caller's sidecar, as in Istio's task.
    const trapped = (two.codes['503'] ?? 0) + (three.codes['503'] ?? 0) + rejected.length;
    let uo = 0;
    await eventually(
      'istio_requests_total{response_code="503",response_flags="UO"} counts every trapped request',
      async () => (uo = (await sleepMetric('istio_requests_total', UO)) - uoBefore) === trapped,
      10_000,
      200,
      () => `${uo} of ${trapped}`,
    );
    t.diagnostic(`istio_requests_total{reporter="source",response_code="503",response_flags="UO"} +${uo}`);
    await cli(m(), ['delete', '-f', `${EXAMPLES}${NET}destination-rule-httpbin-circuit-breaker.yaml`]);
  });

  it('mirroring: v1 serves, v2 gets a copy of every request; the caller sees only v1', async () => {
    await apply(m(), `${NET}httpbin-v2.yaml`, `${NET}destination-rule-httpbin-subsets.yaml`);
    await apply(m(), `${NET}virtual-service-httpbin-v1.yaml`);
    await waitPodReady(m(), 'httpbin-v2');
    // Until the v1 route is in place, v2 (now an endpoint of httpbin) may answer too.
    let probe = 0;
    await eventually(
      'every request served by v1',
      async () => {
        const path = `/headers?probe=${++probe}`;
        const rs = await Promise.all([1, 2, 3, 4, 5].map(() => fromSleep(path)));
        if (rs.some((r) => r.status !== 200)) return false;
        // Each of the 5 is logged by the version that served it; once all are, v1 must have all.
        let v1 = 0;
        await eventually(
          'the 5 probes in the logs',
          async () => (v1 = await logged('httpbin', path)) + (await logged('httpbin-v2', path)) === 5,
          10_000,
        );
        return v1 === 5;
      },
      30_000,
    );
    const plain = await load(['-n', '5', 'http://httpbin:8000/headers?step=v1']);
    assert.deepEqual(plain.codes, { '200': 5 }, plain.out);
    await eventually(
      'v1 logs the 5 requests',
      async () => (await logged('httpbin', '/headers?step=v1')) === 5,
      10_000,
    );
    assert.equal(await logged('httpbin-v2', '/headers?step=v1'), 0, 'no mirror yet: v2 sees nothing');

    await apply(m(), `${NET}virtual-service-httpbin-mirror.yaml`);
    await eventually(
      'v2 receives the mirrored copy',
      async () => {
        const path = `/headers?probe=${++probe}`;
        assert.equal((await fromSleep(path)).status, 200);
        // Until the mirror route is in place no copy comes: look for one for a while, then probe again.
        return waitUntil(async () => (await logged('httpbin-v2', path)) === 1, 2000, 200);
      },
      30_000,
    );
    const mirrored = await load(['-n', '5', 'http://httpbin:8000/headers?step=mirrored']);
    assert.deepEqual(mirrored.codes, { '200': 5 }, `one answer per request: ${mirrored.out}`);
    await eventually(
      'v1 and v2 each log the 5 requests',
      async () =>
        (await logged('httpbin', '/headers?step=mirrored')) === 5 &&
        (await logged('httpbin-v2', '/headers?step=mirrored')) === 5,
      10_000,
    );
    // The mirror's copy carried Host `httpbin-shadow:8000` (Envoy appends -shadow), v1 saw the real one.
    const v2Lines = (await cli(m(), ['logs', 'deploy/httpbin-v2']))
      .split('\n')
      .filter((l) => l.includes('step=mirrored'));
    assert.equal(v2Lines.length, 5, v2Lines.join('\n'));
    assert.ok(
      v2Lines.every((l) => l.endsWith('host=httpbin-shadow:8000')),
      v2Lines.join('\n'),
    );
    const v1Lines = (await cli(m(), ['logs', 'deploy/httpbin']))
      .split('\n')
      .filter((l) => l.includes('step=mirrored'));
    assert.ok(
      v1Lines.every((l) => l.endsWith('host=httpbin:8000')),
      v1Lines.join('\n'),
    );
    const seen = await fromSleep('/headers');
    assert.equal(seen.status, 200);
    const host = (JSON.parse(seen.body) as { headers: Record<string, string> }).headers['Host'];
    assert.equal(host, 'httpbin:8000');
  });
});
