// ClusterManager's EDS routing: an assignment reaches exactly the EDS clusters of its service name, a
// re-created or removed cluster leaves the index, and an assignment the clusters already have is not
// applied again (a delta update hands over every held assignment, most of them unchanged objects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../stats/stats-store.js';
import { ClusterManager } from './cluster-manager.js';
import type {
  envoy_config_cluster_v3_Cluster as ClusterConfig,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
} from '../../xds/envoy-types.js';

function eds(name: string, serviceName?: string, connectSeconds = 1): ClusterConfig {
  return {
    name,
    type: 'EDS',
    connectTimeout: { seconds: connectSeconds },
    edsClusterConfig: { edsConfig: { ads: {} }, ...(serviceName ? { serviceName } : {}) },
  };
}

function cla(clusterName: string, ...ips: string[]): ClusterLoadAssignment {
  return {
    clusterName,
    endpoints: [
      {
        lbEndpoints: ips.map((address) => ({
          endpoint: { address: { socketAddress: { address, portValue: 8080 } } },
        })),
      },
    ],
  };
}

function addresses(m: ClusterManager, name: string): string[] {
  return (m.get(name)?.hostSet.hosts ?? []).map((h) => h.key).sort();
}

test('an assignment reaches every EDS cluster of its service name and no other', () => {
  const m = new ClusterManager(new StatsStore());
  m.upsert(eds('a'), 'dynamic', '1');
  m.upsert(eds('a-alias', 'a'), 'dynamic', '1');
  m.upsert(eds('b'), 'dynamic', '1');
  m.setAssignment(cla('a', '127.0.0.2'));
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.2:8080']);
  assert.deepEqual(addresses(m, 'a-alias'), ['127.0.0.2:8080']);
  assert.deepEqual(addresses(m, 'b'), []);
  m.setAssignment(cla('b', '127.0.0.3', '127.0.0.4'));
  assert.deepEqual(addresses(m, 'b'), ['127.0.0.3:8080', '127.0.0.4:8080']);
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.2:8080']);
});

test('a re-created cluster keeps its endpoints and takes later ones; a removed one takes none', () => {
  const m = new ClusterManager(new StatsStore());
  m.upsert(eds('a'), 'dynamic', '1');
  m.setAssignment(cla('a', '127.0.0.2'));
  const before = m.get('a');
  // A changed config re-creates the cluster: it starts with the last assignment of its service name.
  m.upsert(eds('a', undefined, 2), 'dynamic', '2');
  assert.notEqual(m.get('a'), before);
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.2:8080']);
  m.setAssignment(cla('a', '127.0.0.5'));
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.5:8080']);
  assert.deepEqual(
    before!.hostSet.hosts.map((h) => h.key),
    ['127.0.0.2:8080'],
    'the replaced instance is no longer updated',
  );
  // Moved to another service name: the old name's updates no longer reach it.
  m.upsert(eds('a', 'other'), 'dynamic', '3');
  m.setAssignment(cla('a', '127.0.0.6'));
  assert.ok(!addresses(m, 'a').includes('127.0.0.6:8080'), addresses(m, 'a').join());
  m.setAssignment(cla('other', '127.0.0.7'));
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.7:8080']);
  const removed = m.get('a')!;
  m.remove('a');
  m.setAssignment(cla('other', '127.0.0.8'));
  assert.deepEqual(
    removed.hostSet.hosts.map((h) => h.key),
    ['127.0.0.7:8080'],
  );
});

test('the assignment object a cluster already has is not applied again; an equal new one is', () => {
  const m = new ClusterManager(new StatsStore());
  m.upsert(eds('a'), 'dynamic', '1');
  const first = cla('a', '127.0.0.2');
  m.setAssignment(first);
  const hostSet = m.get('a')!.hostSet;
  m.setAssignment(first);
  assert.equal(m.get('a')!.hostSet, hostSet, 'same object: the host set was not rebuilt');
  m.setAssignment(cla('a', '127.0.0.2'));
  assert.notEqual(m.get('a')!.hostSet, hostSet, 'a new object is applied');
  assert.deepEqual(addresses(m, 'a'), ['127.0.0.2:8080']);
});

test('an unchanged cluster object keeps the running instance', () => {
  const m = new ClusterManager(new StatsStore());
  const config = eds('a');
  const c = m.upsert(config, 'dynamic', '1');
  assert.equal(m.upsert(config, 'dynamic', '2'), c);
  assert.equal(m.upsert(eds('a'), 'dynamic', '3'), c, 'equal content too');
  assert.equal(m.entries.get('a')!.version, '3');
});
