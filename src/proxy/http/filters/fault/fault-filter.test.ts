// Fault injection through a real proxy: delay bounded by the route timeout (504 UT), aborts, percentages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../../proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../../test-util.js';

const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function fault(cfg: Record<string, unknown>): Record<string, unknown> {
  return { 'envoy.filters.http.fault': { '@type': FAULT_TYPE, ...cfg } };
}

describe('fault filter', () => {
  let b: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    b = await startBackend('b');
    const routes = routeConfig('r', [
      {
        name: 'delay7',
        match: { prefix: '/delay' },
        typedPerFilterConfig: fault({
          delay: { fixedDelay: { seconds: 7 }, percentage: { numerator: 100 } },
        }),
        route: { cluster: 'b', timeout: { seconds: 1 } },
      },
      {
        name: 'shortdelay',
        match: { prefix: '/short' },
        typedPerFilterConfig: fault({
          delay: { fixedDelay: { nanos: 300_000_000 }, percentage: { numerator: 100 } },
        }),
        route: { cluster: 'b', timeout: { seconds: 2 } },
      },
      {
        name: 'abort',
        match: { prefix: '/abort' },
        typedPerFilterConfig: fault({ abort: { httpStatus: 418, percentage: { numerator: 100 } } }),
        route: { cluster: 'b' },
      },
      {
        name: 'half',
        match: { prefix: '/half' },
        typedPerFilterConfig: fault({
          abort: { httpStatus: 503, percentage: { numerator: 5000, denominator: 'TEN_THOUSAND' } },
        }),
        route: { cluster: 'b' },
      },
      {
        name: 'nopct',
        match: { prefix: '/nopct' },
        typedPerFilterConfig: fault({ abort: { httpStatus: 500 } }),
        route: { cluster: 'b' },
      },
    ]);
    proxy = await startProxy([httpListener('l', hcm(routes))], [staticCluster('b', [b.port])]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await b.close();
  });

  async function counter(name: string): Promise<number> {
    const body = (await admin(proxy, `/stats?filter=^http\\.test_http\\.${name.replace(/\./g, '\\.')}$`))
      .body;
    return Number(/: (\d+)/.exec(body)?.[1] ?? 0);
  }

  // Event order, not wall-clock time: the route timeout ends a delay that has not finished (the
  // backend never sees the request), and a short delay is counted, then the request proceeds.
  it('a 7 s delay on a route with a 1 s timeout gives 504 UT before the delay ends', async () => {
    const seen = b.seen.length;
    const delays = await counter('fault.delays_injected');
    const r = await get(port, '/delay');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.equal(await counter('fault.delays_injected'), delays + 1, 'the delay was injected');
    assert.ok(!b.seen.slice(seen).some((x) => x.url === '/delay'), 'the delayed request never went upstream');
  });

  it('a short delay is injected and the request then proceeds', async () => {
    const delays = await counter('fault.delays_injected');
    const r = await get(port, '/short');
    assert.equal(r.status, 200);
    assert.equal(await counter('fault.delays_injected'), delays + 1);
  });

  it('aborts with the configured status and Envoy body', async () => {
    const before = b.seen.length;
    const r = await get(port, '/abort');
    assert.equal(r.status, 418);
    assert.equal(r.body, 'fault filter abort');
    assert.equal(b.seen.length, before);
  });

  it('aborts about half the requests at 50 % (binomial ±4σ over 400)', async () => {
    let aborted = 0;
    const n = 400;
    for (let i = 0; i < n; i += 50) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => get(port, '/half')));
      aborted += rs.filter((r) => r.status === 503).length;
    }
    const sigma = Math.sqrt(n * 0.25);
    assert.ok(Math.abs(aborted - n / 2) < 4 * sigma, `aborted ${aborted} of ${n}`);
  });

  it('injects nothing without a percentage', async () => {
    const r = await get(port, '/nopct');
    assert.equal(r.status, 200);
  });

  it('counts injected faults', async () => {
    const s = (await admin(proxy, '/stats?filter=fault')).body;
    assert.match(s, /^http\.test_http\.fault\.delays_injected: [2-9]$/m);
    assert.match(s, /^http\.test_http\.fault\.aborts_injected: [1-9]\d*$/m);
  });
});
