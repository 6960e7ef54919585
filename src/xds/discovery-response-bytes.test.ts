// Tests the hand-built DiscoveryResponse bytes against the real Envoy proto decoder grpc-js uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adsServiceConstructor, type DiscoveryResponseMessage } from './ads-service.js';
import {
  encodeDiscoveryResponse,
  framedResource,
  resourceDigest,
  SerializedResponse,
} from './discovery-response-bytes.js';
import { decodeResource, encodeResource } from './protos.js';
import { edsCluster, loadAssignment } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const decode = (buf: Buffer): DiscoveryResponseMessage =>
  adsServiceConstructor().service.StreamAggregatedResources.responseDeserialize(
    buf,
  ) as DiscoveryResponseMessage;

test('the bytes decode with the Envoy protos to the same response, resources in order', () => {
  const big = loadAssignment(
    'outbound|9080||reviews.default.svc.cluster.local',
    Array.from({ length: 1200 }, (_, i): [string, number] => [`127.1.${i >> 8}.${i & 255}`, 9080]),
  );
  const anys = [
    encodeResource(TypeUrl.ENDPOINT, big), // > 127 bytes: multi-byte length varints
    encodeResource(TypeUrl.ENDPOINT, loadAssignment('outbound|9080||ratings.default.svc.cluster.local', [])),
  ];
  const header = {
    versionInfo: '2026-11-24T00:00:00Z/7',
    typeUrl: TypeUrl.ENDPOINT,
    nonce: 'n1',
    controlPlaneId: 'mizzen',
  };
  const res = decode(encodeDiscoveryResponse(header, anys));
  assert.equal(res.versionInfo, header.versionInfo);
  assert.equal(res.typeUrl, TypeUrl.ENDPOINT);
  assert.equal(res.nonce, 'n1');
  assert.deepEqual(res.controlPlane, { identifier: 'mizzen' });
  assert.deepEqual(
    res.resources!.map((r) => decodeResource(r).clusterName),
    ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||ratings.default.svc.cluster.local'],
  );
  assert.equal((decodeResource(res.resources![0]).endpoints as any[])[0].lbEndpoints.length, 1200);
  assert.ok(anys[0].value.byteLength > 16384, 'the large resource needs a 3-byte length');
});

test('an empty response (no resources, empty version) decodes', () => {
  const res = decode(
    encodeDiscoveryResponse(
      { versionInfo: '', typeUrl: TypeUrl.CLUSTER, nonce: 'x', controlPlaneId: 'm' },
      [],
    ),
  );
  assert.deepEqual(res.resources ?? [], []);
  assert.equal(res.typeUrl, TypeUrl.CLUSTER);
});

test('framing and fingerprints are cached per Any; equal content has equal fingerprints', () => {
  const a = encodeResource(TypeUrl.CLUSTER, edsCluster('outbound|9080||a.default.svc.cluster.local'));
  const a2 = encodeResource(TypeUrl.CLUSTER, edsCluster('outbound|9080||a.default.svc.cluster.local'));
  const b = encodeResource(TypeUrl.CLUSTER, edsCluster('outbound|9080||b.default.svc.cluster.local'));
  assert.equal(framedResource(a), framedResource(a), 'same object, same cached buffer');
  assert.notEqual(a, a2);
  assert.equal(resourceDigest(a), resourceDigest(a2));
  assert.notEqual(resourceDigest(a), resourceDigest(b));
});

test('a reused response lives in shared memory until settled: settle copies it out unless gRPC took it', () => {
  const anys = [encodeResource(TypeUrl.CLUSTER, edsCluster('outbound|9080||a.default.svc.cluster.local'))];
  const header = (nonce: string) => ({
    versionInfo: 'v',
    typeUrl: TypeUrl.CLUSTER,
    nonce,
    controlPlaneId: 'm',
  });
  const first = new SerializedResponse(encodeDiscoveryResponse(header('first'), anys, true));
  first.settle(); // not consumed: moved out of the scratch buffer
  const taken = new SerializedResponse(encodeDiscoveryResponse(header('taken'), anys, true));
  taken.consumed = true;
  taken.settle(); // consumed: stays a view of the scratch buffer
  const second = encodeDiscoveryResponse(header('secnd'), anys, true);
  assert.equal(decode(first.bytes).nonce, 'first', 'a settled response survives the next encoding');
  assert.equal(second.buffer, taken.bytes.buffer, 'reuse writes into the same memory');
  assert.equal(decode(taken.bytes).nonce, 'secnd', 'an unsettled view is overwritten by the next encoding');
  assert.notEqual(encodeDiscoveryResponse(header('own'), anys).buffer, second.buffer);
});
