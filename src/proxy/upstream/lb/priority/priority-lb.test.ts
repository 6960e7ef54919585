// Priority load, panic threshold, locality-weighted split and slow start, through the cluster factory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostSet } from '../../host-set.js';
import { createLoadBalancer } from '../index.js';
import { RoundRobinLoadBalancer } from '../round-robin/round-robin.js';
import { countPicks, setOf, testHost, withinBinomial } from '../lb-test-util.js';
import { SlowStart } from '../slow-start/slow-start.js';
import { PriorityLoadBalancer } from './priority-lb.js';

const N = 20_000;

describe('priority levels and panic', () => {
  it('all traffic to priority 0 while it is healthy; failover to priority 1 as it loses hosts', () => {
    const p0 = [1, 2, 3, 4, 5].map((i) => testHost(i, { priority: 0 }));
    const p1 = [6, 7].map((i) => testHost(i, { priority: 1 }));
    const lb = createLoadBalancer({ name: 'c', lbPolicy: 'RANDOM' });
    lb.update(setOf([...p0, ...p1]));
    let c = countPicks(lb, 2000);
    assert.equal(
      p1.reduce((s, h) => s + (c.get(h) ?? 0), 0),
      0,
    );
    // 4 of 5 healthy: 1.4 x 80% >= 100%, still everything on P0.
    p0[0].outlierEjected = true;
    lb.update(setOf([...p0, ...p1]));
    c = countPicks(lb, 2000);
    assert.equal(c.get(p0[0]), undefined);
    assert.equal(
      p1.reduce((s, h) => s + (c.get(h) ?? 0), 0),
      0,
    );
    // 2 of 5 healthy: P0 health 56%, P1 gets the other 44%.
    p0[1].outlierEjected = true;
    p0[2].outlierEjected = true;
    const set = setOf([...p0, ...p1]);
    assert.deepEqual(
      set.levels.map((l) => Math.round(l.load)),
      [56, 44],
    );
    lb.update(set);
    c = countPicks(lb, N);
    withinBinomial(
      p1.reduce((s, h) => s + (c.get(h) ?? 0), 0),
      N,
      0.44,
    );
    assert.equal(set.panic, false, 'no panic while other levels absorb the load');
  });

  it('panic: below the threshold with no other level, traffic goes to all hosts', () => {
    const hosts = [1, 2, 3, 4].map((i) => testHost(i));
    hosts.slice(0, 3).forEach((h) => (h.outlierEjected = true));
    const set = setOf(hosts, 50);
    assert.equal(set.panic, true);
    const lb = createLoadBalancer({ name: 'c', lbPolicy: 'ROUND_ROBIN' });
    lb.update(set);
    const c = countPicks(lb, 4000);
    for (const h of hosts) assert.equal(c.get(h), 1000);
    // Panic disabled (Istio's minHealthPercent 0 with outlier detection): only the healthy host.
    const noPanic = setOf(hosts, 0);
    assert.equal(noPanic.panic, false);
    lb.update(noPanic);
    assert.equal(countPicks(lb, 100).get(hosts[3]), 100);
    // Nothing healthy and panic disabled: no host.
    hosts[3].outlierEjected = true;
    lb.update(setOf(hosts, 0));
    assert.equal(lb.pick({ tried: null }), null);
  });
});

describe('locality-weighted load balancing', () => {
  it('splits traffic by locality weight, scaled by each locality’s availability', () => {
    const a = [1, 2].map((i) => testHost(i, { zone: 'a', localityWeight: 80 }));
    const b = [3, 4].map((i) => testHost(i, { zone: 'b', localityWeight: 20 }));
    const lb = createLoadBalancer({
      name: 'c',
      lbPolicy: 'ROUND_ROBIN',
      commonLbConfig: { localityWeightedLbConfig: {} },
    });
    lb.update(setOf([...a, ...b]));
    let c = countPicks(lb, N);
    withinBinomial((c.get(a[0]) ?? 0) + (c.get(a[1]) ?? 0), N, 0.8);
    // Half of zone a ejected: availability min(1, 1.4 x 1/2) = 0.7, weight 56 against 20.
    a[0].outlierEjected = true;
    lb.update(setOf([...a, ...b]));
    c = countPicks(lb, N);
    withinBinomial(c.get(a[1]) ?? 0, N, 56 / 76);
    assert.equal(c.get(a[0]), undefined);
  });

  it('without localityWeightedLbConfig the locality weights are ignored', () => {
    const hosts = [
      testHost(1, { zone: 'a', localityWeight: 99 }),
      testHost(2, { zone: 'b', localityWeight: 1 }),
    ];
    const lb = createLoadBalancer({ name: 'c', lbPolicy: 'ROUND_ROBIN' });
    lb.update(setOf(hosts));
    const c = countPicks(lb, 1000);
    assert.deepEqual([c.get(hosts[0]), c.get(hosts[1])], [500, 500]);
  });
});

describe('slow start', () => {
  it('a new host’s share ramps from min weight to full over the window', () => {
    let now = 100_000;
    const ss = new SlowStart(10_000, 1, 0.1, () => now);
    const old = [1, 2, 3].map((i) => testHost(i));
    old.forEach((h) => (h.addedAt = 0));
    const fresh = testHost(4);
    fresh.addedAt = now;
    const lb = new PriorityLoadBalancer({
      make: () => new RoundRobinLoadBalancer(),
      hashBased: false,
      localityWeighted: false,
      slowStart: ss,
    });
    lb.update(new HostSet([...old, fresh], 50));
    const share = (): number => (countPicks(lb, N).get(fresh) ?? 0) / N;
    const start = share();
    now += 5_000;
    const half = share();
    now += 5_000;
    const done = share();
    assert.ok(start < 0.06, `share at start ${start}`);
    assert.ok(half > start && half < done, `share halfway ${half}`);
    assert.ok(Math.abs(done - 0.25) < 0.02, `share after the window ${done}`);
    assert.equal(ss.factor(fresh), 1);
  });

  it('is read from roundRobinLbConfig.slowStartConfig (Istio warmupDurationSecs)', () => {
    const lb = createLoadBalancer({
      name: 'c',
      lbPolicy: 'ROUND_ROBIN',
      roundRobinLbConfig: { slowStartConfig: { slowStartWindow: { seconds: 60 } } },
    });
    const old = testHost(1);
    old.addedAt = -1e9;
    const fresh = testHost(2);
    lb.update(setOf([old, fresh]));
    const c = countPicks(lb, N);
    assert.ok((c.get(fresh) ?? 0) / N < 0.12, `fresh host share ${(c.get(fresh) ?? 0) / N}`);
  });
});
