// Declared services and weighted splits from served config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configuredSplits, fqdn, knownServices, type ConfigzResource } from './mesh-config.js';

const DR: ConfigzResource = {
  kind: 'DestinationRule',
  namespace: 'default',
  name: 'reviews',
  resource: {
    spec: {
      host: 'reviews',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'canary', labels: { version: 'v3' } },
      ],
    },
  },
};

test('the default rule’s weights by version (subset labels), short hosts in the namespace', () => {
  const vs: ConfigzResource = {
    kind: 'VirtualService',
    namespace: 'default',
    name: 'reviews',
    resource: {
      spec: {
        hosts: ['reviews'],
        http: [
          {
            match: [{ headers: { 'end-user': { exact: 'jason' } } }],
            route: [{ destination: { host: 'reviews', subset: 'v1' } }],
          },
          {
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
              { destination: { host: 'reviews', subset: 'canary' }, weight: 50 },
            ],
          },
        ],
      },
    },
  };
  assert.deepEqual(configuredSplits([DR, vs]), [
    {
      host: 'reviews.default.svc.cluster.local',
      resource: 'VirtualService default/reviews',
      weights: { v1: 50, v3: 50 },
    },
  ]);
});

test('a route without subsets is no split; one subset alone is 100', () => {
  const vs = (route: unknown[]): ConfigzResource => ({
    kind: 'VirtualService',
    namespace: 'default',
    name: 'x',
    resource: { spec: { http: [{ route }] } },
  });
  assert.deepEqual(configuredSplits([vs([{ destination: { host: 'reviews' } }])]), []);
  assert.deepEqual(
    configuredSplits([DR, vs([{ destination: { host: 'reviews', subset: 'v1' } }])])[0].weights,
    {
      v1: 100,
    },
  );
});

test('services and ServiceEntry hosts', () => {
  const k = knownServices([
    { kind: 'Service', namespace: 'default', name: 'ratings', resource: {} },
    {
      kind: 'ServiceEntry',
      namespace: 'default',
      name: 'ext',
      resource: { spec: { hosts: ['httpbin.org'] } },
    },
  ]);
  assert.deepEqual(
    k.map((x) => [x.host, x.kind]),
    [
      ['ratings.default.svc.cluster.local', 'service'],
      ['httpbin.org', 'serviceentry'],
    ],
  );
  assert.equal(fqdn('reviews.prod', 'default'), 'reviews.prod.svc.cluster.local');
});
