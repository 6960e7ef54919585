// Istio's circuit-breaking task, automated in process: DestinationRule maxConnections 1,
// http1MaxPendingRequests 1, maxRequestsPerConnection 1 → pilot's cluster → the proxy. Three concurrent
// callers overflow it (503, x-envoy-overloaded, flag UO) and upstream_rq_pending_overflow counts exactly
// the 503s they saw; one caller never trips it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../src/proxy/proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  type Backend,
} from '../../src/proxy/test-util.js';
import { CLUSTER, pilotCluster } from './pilot-cluster.js';

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin }
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 1 }
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 }
`;

async function stat(p: Proxy, name: string): Promise<number> {
  const r = await admin(p, `/stats?filter=${encodeURIComponent(`^${name.replace(/[|.]/g, '\\$&')}$`)}`);
  const line = r.body.split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

describe('circuit breaker task (DestinationRule → pilot → proxy)', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    // httpbin-like: a small delay per request so concurrent callers overlap.
    backend = await startBackend('httpbin', (_req, res) => {
      setTimeout(() => res.end('{"url":"/get"}'), 15);
    });
    const cluster = pilotCluster(DR, [backend.port]);
    const t = (cluster.circuitBreakers as any).thresholds[0];
    assert.equal(t.maxConnections.value, 1);
    assert.equal(t.maxPendingRequests.value, 1);
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: CLUSTER } }]);
    proxy = await startProxy([httpListener('l', hcm(routes))], [cluster]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  async function callers(
    n: number,
    each: number,
  ): Promise<{ ok: number; overflow: number; other: string[] }> {
    const out = { ok: 0, overflow: 0, other: [] as string[] };
    const caller = async (): Promise<void> => {
      for (let i = 0; i < each; i++) {
        const r = await get(port, '/get');
        if (r.status === 200) out.ok++;
        else if (
          r.status === 503 &&
          r.headers['x-envoy-overloaded'] === 'true' &&
          r.body.endsWith('overflow')
        )
          out.overflow++;
        else out.other.push(`${r.status} ${r.body}`);
      }
    };
    await Promise.all(Array.from({ length: n }, caller));
    return out;
  }

  it('3 concurrent callers x 30 requests: some 503 UO, counted exactly by upstream_rq_pending_overflow', async () => {
    const before = await stat(proxy, `cluster.${CLUSTER}.upstream_rq_pending_overflow`);
    const r = await callers(3, 30);
    const overflowStat = (await stat(proxy, `cluster.${CLUSTER}.upstream_rq_pending_overflow`)) - before;
    console.log(
      `3 callers: ${r.ok} ok, ${r.overflow} overflowed; upstream_rq_pending_overflow +${overflowStat}`,
    );
    assert.deepEqual(r.other.slice(0, 3), []);
    assert.equal(r.ok + r.overflow, 90);
    assert.ok(r.overflow >= 1, 'some requests are trapped by the circuit breaker');
    assert.ok(r.ok >= 10, 'the breaker still lets traffic through');
    assert.equal(overflowStat, r.overflow);
    assert.ok((await stat(proxy, `cluster.${CLUSTER}.upstream_cx_overflow`)) >= r.overflow);
  });

  it('1 caller x 30 requests: none fail', async () => {
    const before = await stat(proxy, `cluster.${CLUSTER}.upstream_rq_pending_overflow`);
    const r = await callers(1, 30);
    assert.deepEqual([r.ok, r.overflow, r.other.length], [30, 0, 0]);
    assert.equal(await stat(proxy, `cluster.${CLUSTER}.upstream_rq_pending_overflow`), before);
  });
});
