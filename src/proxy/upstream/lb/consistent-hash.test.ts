// RING_HASH and MAGLEV: same key → same host, even spread, weights, and minimal key movement when an
// endpoint is added or removed (the figures are printed for the record).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Host } from '../host.js';
import { hash53 } from './hash/xxhash64.js';
import { createLoadBalancer } from './index.js';
import type { LoadBalancer } from './load-balancer.js';
import { setOf, testHost, testHosts } from './lb-test-util.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => hash53(`user-${i}`));

function assign(lb: LoadBalancer): Host[] {
  return KEYS.map((hash) => lb.pick({ tried: null, hash })!);
}

function moved(a: Host[], b: Host[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i].key !== b[i].key) n++;
  return n / a.length;
}

for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
  describe(policy, () => {
    const make = (): LoadBalancer => createLoadBalancer({ name: 'c', lbPolicy: policy });

    it('keeps every key on the same host across 1000 requests', () => {
      const lb = make();
      lb.update(setOf(testHosts(5)));
      const first = assign(lb);
      let same = 0;
      for (let r = 0; r < 1000; r++) {
        const i = (r * 7919) % KEYS.length;
        if (lb.pick({ tried: null, hash: KEYS[i] }) === first[i]) same++;
      }
      assert.ok(same >= 990, `${same}/1000 on the same host`);
      assert.equal(same, 1000);
    });

    it('spreads keys evenly over equal hosts', () => {
      const lb = make();
      const hosts = testHosts(4);
      lb.update(setOf(hosts));
      const a = assign(lb);
      for (const h of hosts) {
        const share = a.filter((x) => x === h).length / a.length;
        assert.ok(share > 0.25 - 0.07 && share < 0.25 + 0.07, `${h.key} share ${share}`);
      }
    });

    it('honours weights 1:3', () => {
      const lb = make();
      const hosts = [testHost(1, { weight: 1 }), testHost(2, { weight: 3 })];
      lb.update(setOf(hosts));
      const share = assign(lb).filter((x) => x === hosts[1]).length / KEYS.length;
      assert.ok(share > 0.68 && share < 0.82, `weight-3 host share ${share}`);
    });

    it('adding a 5th endpoint moves at most 1/N + 5% of keys, (almost) all to the new endpoint', () => {
      const lb = make();
      const hosts = testHosts(5);
      lb.update(setOf(hosts.slice(0, 4)));
      const before = assign(lb);
      lb.update(setOf(hosts));
      const after = assign(lb);
      const frac = moved(before, after);
      console.log(`${policy}: adding endpoint 5 of 5 moved ${(frac * 100).toFixed(2)}% of 10000 keys`);
      assert.ok(frac <= 1 / 5 + 0.05, `moved ${frac}`);
      assert.ok(frac > 0.1, `new host took only ${frac}`);
      let elsewhere = 0;
      for (let i = 0; i < KEYS.length; i++) if (before[i] !== after[i] && after[i] !== hosts[4]) elsewhere++;
      // Ring hash moves keys only to the new host; maglev's table rebuild may shift a few slots.
      assert.ok(
        elsewhere / KEYS.length <= (policy === 'MAGLEV' ? 0.02 : 0),
        `${elsewhere} keys moved elsewhere`,
      );
    });

    it('removing an endpoint moves only the keys it owned', () => {
      const lb = make();
      const hosts = testHosts(5);
      lb.update(setOf(hosts));
      const before = assign(lb);
      lb.update(setOf(hosts.filter((h) => h !== hosts[2])));
      const after = assign(lb);
      let others = 0;
      for (let i = 0; i < KEYS.length; i++) if (before[i] !== hosts[2] && before[i] !== after[i]) others++;
      const frac = moved(before, after);
      console.log(`${policy}: removing 1 of 5 endpoints moved ${(frac * 100).toFixed(2)}% of keys`);
      // Ring hash moves nothing else; maglev's table rebuild may shift a few slots between survivors.
      assert.ok(
        others / KEYS.length <= (policy === 'MAGLEV' ? 0.02 : 0),
        `${others} keys of survivors moved`,
      );
    });

    it('a retry goes to another host; no key picks at random', () => {
      const lb = make();
      const hosts = testHosts(3);
      lb.update(setOf(hosts));
      const h = lb.pick({ tried: null, hash: KEYS[0] })!;
      const retry = lb.pick({ tried: [h], hash: KEYS[0] })!;
      assert.notEqual(retry, h);
      const seen = new Set<Host>();
      for (let i = 0; i < 200; i++) seen.add(lb.pick({ tried: null })!);
      assert.equal(seen.size, 3);
      lb.update(setOf([]));
      assert.equal(lb.pick({ tried: null, hash: 1 }), null);
    });
  });
}

describe('hash policy sizes', () => {
  it('ring size follows minimumRingSize; maglev rejects a table size that is not prime', () => {
    assert.throws(
      () =>
        createLoadBalancer({ name: 'm', lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: { value: 1000 } } }),
      /not a prime/,
    );
    const lb = createLoadBalancer({
      name: 'm',
      lbPolicy: 'MAGLEV',
      maglevLbConfig: { tableSize: { value: 251 } },
    });
    lb.update(setOf(testHosts(3)));
    assert.ok(lb.pick({ tried: null, hash: 5 }));
  });
});
