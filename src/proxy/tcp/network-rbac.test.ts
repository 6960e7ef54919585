// The network RBAC filter's config: what it refuses naming the field (a NACK over xDS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { NetworkRbac } from './network-rbac.js';

test('network RBAC refuses CONTINUOUS enforcement (connections are checked once) and accepts the default', () => {
  const rules = { action: 'ALLOW' as const, policies: {} };
  assert.throws(
    () => new NetworkRbac({ statPrefix: 'tcp.', rules, enforcementType: 'CONTINUOUS' }, new StatsStore()),
    /enforcementType: CONTINUOUS is not supported/,
  );
  assert.doesNotThrow(
    () =>
      new NetworkRbac(
        { statPrefix: 'tcp.', rules, enforcementType: 'ONE_TIME_ON_FIRST_BYTE' },
        new StatsStore(),
      ),
  );
});
