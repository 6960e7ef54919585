// Distribution of every simple LB policy through the cluster factory (priority wrapper included):
// round robin exact, random/least-request within binomial +-4 sigma, weights honoured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLoadBalancer } from './index.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../xds/envoy-types.js';
import { countPicks, setOf, testHost, testHosts, withinBinomial } from './lb-test-util.js';

const N = 30_000;

function lbFor(policy: ClusterConfig['lbPolicy'], extra: Partial<ClusterConfig> = {}) {
  return createLoadBalancer({ name: 'c', ...(policy ? { lbPolicy: policy } : {}), ...extra });
}

describe('simple LB policies', () => {
  it('ROUND_ROBIN (default) rotates exactly over equal hosts', () => {
    const lb = lbFor(undefined);
    const hosts = testHosts(3);
    lb.update(setOf(hosts));
    const c = countPicks(lb, 3000);
    for (const h of hosts) assert.equal(c.get(h), 1000);
  });

  it('ROUND_ROBIN with weights 1:2:3 gives exactly 1/6, 2/6, 3/6', () => {
    const lb = lbFor('ROUND_ROBIN');
    const hosts = [testHost(1, { weight: 1 }), testHost(2, { weight: 2 }), testHost(3, { weight: 3 })];
    lb.update(setOf(hosts));
    const c = countPicks(lb, 6000);
    assert.deepEqual(
      hosts.map((h) => c.get(h)),
      [1000, 2000, 3000],
    );
  });

  it('RANDOM is uniform and weight-proportional within 4 sigma', () => {
    const lb = lbFor('RANDOM');
    const hosts = testHosts(4);
    lb.update(setOf(hosts));
    const c = countPicks(lb, N);
    for (const h of hosts) withinBinomial(c.get(h) ?? 0, N, 1 / 4);
    const weighted = [testHost(1, { weight: 1 }), testHost(2, { weight: 3 })];
    lb.update(setOf(weighted));
    const w = countPicks(lb, N);
    withinBinomial(w.get(weighted[0]) ?? 0, N, 1 / 4);
    withinBinomial(w.get(weighted[1]) ?? 0, N, 3 / 4);
  });

  it('LEAST_REQUEST (Istio default) is uniform over idle equal hosts within 4 sigma', () => {
    const lb = lbFor('LEAST_REQUEST');
    const hosts = testHosts(5);
    lb.update(setOf(hosts));
    const c = countPicks(lb, N);
    for (const h of hosts) withinBinomial(c.get(h) ?? 0, N, 1 / 5);
  });

  it('LEAST_REQUEST avoids a busy host: P2C only picks it when both choices are that host', () => {
    const lb = lbFor('LEAST_REQUEST');
    const hosts = testHosts(4);
    hosts[0].rqActive = 10;
    lb.update(setOf(hosts));
    const c = countPicks(lb, N);
    // P(both random choices are the busy host) = 1/16.
    withinBinomial(c.get(hosts[0]) ?? 0, N, 1 / 16);
  });

  it('LEAST_REQUEST with weights follows weight / (active + 1)', () => {
    const lb = lbFor('LEAST_REQUEST');
    const hosts = [testHost(1, { weight: 1 }), testHost(2, { weight: 2 }), testHost(3, { weight: 5 })];
    lb.update(setOf(hosts));
    const c = countPicks(lb, 8000);
    assert.deepEqual(
      hosts.map((h) => c.get(h)),
      [1000, 2000, 5000],
    );
    // The heaviest host is busy: its effective weight 5/11 falls below the others'.
    hosts[2].rqActive = 10;
    const busy = countPicks(lb, 3000 * 11);
    const total = 1 + 2 + 5 / 11;
    withinBinomial(busy.get(hosts[2]) ?? 0, 3000 * 11, 5 / 11 / total);
  });

  it('an unknown lb_policy is rejected, CLUSTER_PROVIDED gets the original-destination balancer', () => {
    assert.throws(() => lbFor('LOAD_BALANCING_POLICY_CONFIG'), /unsupported lb_policy/);
    const lb = createLoadBalancer({ name: 'p', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' });
    assert.equal(lb.pick({ tried: null, originalDst: '127.0.0.9:81' })?.key, '127.0.0.9:81');
    assert.equal(lb.pick({ tried: null, originalDst: 'not-an-ip:81' }), null);
    assert.equal(lb.pick({ tried: null }), null);
  });
});
