// parseProxy's locality: the proxy's own labels first (Istio's localityFromProxyLabels), then the node's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxy } from './proxy.js';

const ID = 'sidecar~10.0.0.7~vm-1.default~default.svc.cluster.local';

function localityOf(labels: Record<string, string>, node: Record<string, unknown> = {}): string {
  const l = parseProxy({ id: ID, metadata: { LABELS: labels }, node: node }).locality;
  return [l.region, l.zone, l.subZone].join('/');
}

test('topology labels in LABELS give the locality, over the node locality', () => {
  assert.equal(
    localityOf(
      { 'topology.kubernetes.io/region': 'eu', 'topology.kubernetes.io/zone': 'eu-1' },
      { locality: { region: 'us', zone: 'us-1' } },
    ),
    'eu/eu-1/',
  );
});

test('the istio-locality label (region.zone.subzone) when no topology label is set', () => {
  assert.equal(localityOf({ 'istio-locality': 'region1.zone-a.rack-3' }), 'region1/zone-a/rack-3');
  assert.equal(
    localityOf({ 'istio-locality': 'r.z', 'topology.istio.io/subzone': 's' }),
    '//s',
    'a topology label wins even when only the subzone is set',
  );
});

test('without locality labels the node locality is used, else none', () => {
  assert.equal(localityOf({ app: 'vm' }, { locality: { region: 'us', zone: 'us-1' } }), 'us/us-1/');
  assert.equal(localityOf({ app: 'vm' }), '//');
});
