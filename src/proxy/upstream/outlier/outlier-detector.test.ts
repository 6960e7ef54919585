// Outlier detection driven by a fake clock: consecutive 5xx / gateway / local-origin ejections,
// base_ejection_time x ejection count, max_ejection_percent, decay of the multiplier, stats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../../stats/stats-store.js';
import { testHosts } from '../lb/lb-test-util.js';
import { outlierConfig } from './outlier-config.js';
import { LocalResult, OutlierDetector } from './outlier-detector.js';

function setup(od: Record<string, unknown>, n = 3) {
  let now = 0;
  let changes = 0;
  const store = new StatsStore();
  const scope = store.scope('cluster.c.', 'cluster.', [['envoy_cluster_name', 'c']]);
  const d = new OutlierDetector(
    outlierConfig(od)!,
    scope,
    'c',
    () => changes++,
    () => now,
    () => 0,
  );
  const hosts = testHosts(n);
  d.setHosts(hosts);
  return {
    d,
    hosts,
    store,
    advance: (ms: number) => {
      now += ms;
      d.sweep();
    },
    changes: () => changes,
  };
}

const FAST = {
  consecutive_5xx: { value: 3 },
  interval: { nanos: 100_000_000 },
  baseEjectionTime: { nanos: 500_000_000 },
  maxEjectionPercent: { value: 100 },
};

describe('outlier detector', () => {
  it('ejects after consecutive 5xx, returns after base time, second ejection lasts twice as long', () => {
    const { d, hosts, advance, changes } = setup(FAST);
    const [bad] = hosts;
    d.putHttpStatus(bad, 500);
    d.putHttpStatus(bad, 500);
    d.putHttpStatus(bad, 200); // a success resets the count
    d.putHttpStatus(bad, 500);
    d.putHttpStatus(bad, 503);
    assert.equal(bad.outlierEjected, false);
    d.putHttpStatus(bad, 500);
    assert.equal(bad.outlierEjected, true);
    assert.equal(bad.healthFlags(), '/failed_outlier_check');
    assert.equal(d.stats.ejections_active.value, 1);
    assert.equal(changes(), 1);
    advance(400);
    assert.equal(bad.outlierEjected, true, 'still ejected before 500 ms');
    advance(100);
    assert.equal(bad.outlierEjected, false, 'back after 500 ms');
    assert.equal(d.stats.ejections_active.value, 0);
    for (let i = 0; i < 3; i++) d.putHttpStatus(bad, 500);
    assert.equal(bad.outlierEjected, true);
    advance(500);
    assert.equal(bad.outlierEjected, true, 'second ejection: still out after 500 ms');
    advance(500);
    assert.equal(bad.outlierEjected, false, 'second ejection ends after 1000 ms');
    assert.equal(d.stats.ejections_enforced_total.value, 2);
    assert.equal(d.stats.enforced.consecutive_5xx.value, 2);
    assert.equal(d.stats.detected.consecutive_5xx.value, 2);
  });

  it('a host healthy for whole intervals earns its multiplier back', () => {
    const { d, hosts, advance } = setup(FAST);
    const [h] = hosts;
    for (let i = 0; i < 3; i++) d.putHttpStatus(h, 500);
    advance(500);
    for (let i = 0; i < 3; i++) d.putHttpStatus(h, 500);
    assert.equal(h.outlier!.numEjections, 2);
    advance(1000);
    assert.equal(h.outlierEjected, false);
    advance(100);
    advance(100);
    advance(100);
    assert.equal(h.outlier!.numEjections, 0);
  });

  it('max_ejection_percent caps ejections and counts the overflow', () => {
    const { d, hosts } = setup({ ...FAST, maxEjectionPercent: { value: 50 } }, 4);
    for (const h of hosts) for (let i = 0; i < 3; i++) d.putHttpStatus(h, 500);
    assert.equal(hosts.filter((h) => h.outlierEjected).length, 2);
    assert.equal(d.stats.ejections_overflow.value, 2);
  });

  it("Istio's default max_ejection_percent 10 ejects nothing among 3 hosts (as in Envoy)", () => {
    const { d, hosts } = setup({ consecutive_5xx: { value: 1 } });
    d.putHttpStatus(hosts[0], 500);
    assert.equal(hosts[0].outlierEjected, false);
    assert.equal(d.stats.ejections_overflow.value, 1);
  });

  it('gateway failures eject only when enforced; local failures count as 5xx unless split', () => {
    const gw = setup({
      ...FAST,
      consecutive_5xx: { value: 100 },
      consecutiveGatewayFailure: { value: 2 },
      enforcingConsecutiveGatewayFailure: { value: 100 },
    });
    gw.d.putHttpStatus(gw.hosts[0], 502);
    gw.d.putHttpStatus(gw.hosts[0], 500); // not a gateway error: resets that count
    gw.d.putHttpStatus(gw.hosts[0], 504);
    assert.equal(gw.hosts[0].outlierEjected, false);
    gw.d.putLocalResult(gw.hosts[0], LocalResult.Timeout); // counts as 504
    assert.equal(gw.hosts[0].outlierEjected, true);
    assert.equal(gw.d.stats.enforced.consecutive_gateway_failure.value, 1);

    const notEnforced = setup({
      ...FAST,
      consecutive_5xx: { value: 100 },
      consecutiveGatewayFailure: { value: 1 },
    });
    notEnforced.d.putHttpStatus(notEnforced.hosts[0], 503);
    assert.equal(notEnforced.hosts[0].outlierEjected, false);
    assert.equal(notEnforced.d.stats.detected.consecutive_gateway_failure.value, 1);

    const split = setup({
      ...FAST,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: { value: 2 },
    });
    const h = split.hosts[0];
    split.d.putLocalResult(h, LocalResult.ConnectFailed);
    split.d.putLocalResult(h, LocalResult.ConnectSuccess); // resets the local count
    split.d.putLocalResult(h, LocalResult.ConnectFailed);
    split.d.putHttpStatus(h, 500);
    split.d.putHttpStatus(h, 500);
    assert.equal(h.outlierEjected, false, 'local failures do not add to 5xx when split');
    split.d.putLocalResult(h, LocalResult.ConnectFailed);
    assert.equal(h.outlierEjected, true);
    assert.equal(split.d.stats.enforced.consecutive_local_origin_failure.value, 1);
  });

  it('Envoy defaults: 5 consecutive 5xx, 10 s interval, 30 s base, 10%', () => {
    const c = outlierConfig({})!;
    assert.deepEqual(
      [
        c.consecutive5xx,
        c.intervalMs,
        c.baseEjectionTimeMs,
        c.maxEjectionPercent,
        c.enforcingConsecutiveGatewayFailure,
      ],
      [5, 10_000, 30_000, 10, 0],
    );
    assert.equal(outlierConfig(undefined), null);
  });
});
