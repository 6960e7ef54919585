// localityLbSetting: a distribute entry shadowed by an earlier one, and overlapping "to" localities, are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTable, type Case } from '../../test-util.js';
import { localityCovers } from './locality-lb-setting.js';

/** A DestinationRule whose `distribute:` list starts on line 11. */
const dr = (distribute: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n${distribute}`;

const DIST = 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute';

const cases: Case[] = [
  {
    name: 'a specific from before a general one is fine (each proxy takes the first entry it is in)',
    yaml: dr(`        - {from: us-west/zone1/*, to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}}
        - {from: us-west/*, to: {"us-west/*": 100}}
`),
  },
  {
    name: 'a from after a region-wide one is shadowed',
    yaml: dr(`        - {from: us-west/*, to: {"us-west/*": 100}}
        - {from: us-west/zone1/*, to: {"us-west/zone1/*": 100}}
`),
    errors: [{ path: `${DIST}[1].from`, message: /overlaps distribute\[0\]\.from us-west\/\*/, line: 12 }],
  },
  {
    name: 'a bare region covers its zones too',
    yaml: dr(`        - {from: us-west, to: {"us-west": 100}}
        - {from: us-west/zone1, to: {"us-west": 100}}
`),
    errors: [{ path: `${DIST}[1].from`, message: /overlaps/ }],
  },
  {
    name: 'the same from twice',
    yaml: dr(`        - {from: us-west/zone1/sz1, to: {"us-west": 100}}
        - {from: us-west/zone1/sz1, to: {"us-east": 100}}
`),
    errors: [{ path: `${DIST}[1].from`, message: /overlaps/ }],
  },
  {
    name: 'overlapping localities in one "to" map',
    yaml: dr(`        - {from: us-west/*, to: {"us-west/*": 50, "us-west/zone1/*": 50}}
`),
    errors: [
      { path: `${DIST}[0].to["us-west/zone1/*"]`, message: /overlaps us-west\/\* in the same "to" map/ },
    ],
  },
  {
    name: 'distinct zones of one region do not overlap',
    yaml: dr(`        - {from: us-west/zone1/*, to: {"us-west/zone1/*": 50, "us-west/zone2/*": 50}}
        - {from: us-west/zone2/*, to: {"us-west/zone2/*": 100}}
`),
  },
];

runTable('localityLbSetting', cases);

test('localityCovers: a wildcard or a shorter locality covers the longer ones under it', () => {
  assert.equal(localityCovers('*', 'eu/z1/s1'), true);
  assert.equal(localityCovers('eu', 'eu/z1'), true);
  assert.equal(localityCovers('eu/*', 'eu/z1/s1'), true);
  assert.equal(localityCovers('eu/z1', 'eu/z1/s1'), true);
  assert.equal(localityCovers('eu/z1/s1', 'eu/z1'), false);
  assert.equal(localityCovers('eu/z1', 'eu/z2'), false);
  assert.equal(localityCovers('eu', 'us'), false);
});
