// Tests the hand-built DiscoveryResponse bytes against the real Envoy proto decoder grpc-js uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  adsServiceConstructor,
  type DeltaDiscoveryResponseMessage,
  type DiscoveryResponseMessage,
} from './ads-service.js';
import {
  deltaResponseWithBody,
  framedDeltaResource,
  resourcesBody,
  encodeDiscoveryResponse,
  framedResource,
  resourceDigest,
  responseBytes,
  type ResponseParts,
} from './discovery-response-bytes.js';
import { decodeResource, encodeResource } from './protos.js';
import { edsCluster, loadAssignment } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const decode = (parts: ResponseParts): DiscoveryResponseMessage =>
  adsServiceConstructor().service.StreamAggregatedResources.responseDeserialize(
    responseBytes(parts),
  ) as DiscoveryResponseMessage;
const decodeDelta = (parts: ResponseParts): DeltaDiscoveryResponseMessage =>
  adsServiceConstructor().service.DeltaAggregatedResources.responseDeserialize(
    responseBytes(parts),
  ) as DeltaDiscoveryResponseMessage;

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

const clusters = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) =>
    encodeResource(TypeUrl.CLUSTER, edsCluster(`outbound|9080||${prefix}${i}.default.svc.cluster.local`)),
  );

test('responses carrying the same resources share their body chunks; a different tail shares the rest', () => {
  const shared = clusters(150, 's');
  const header = (nonce: string) => ({
    versionInfo: 'v',
    typeUrl: TypeUrl.CLUSTER,
    nonce,
    controlPlaneId: 'm',
  });
  const a = encodeDiscoveryResponse(header('a'), [...shared, ...clusters(2, 'own-a')]);
  const b = encodeDiscoveryResponse(header('b'), [...shared, ...clusters(2, 'own-b')]);
  assert.equal(a.body.length, 3, '152 resources in chunks of 64');
  assert.equal(a.body[0], b.body[0], 'the first chunk is the same Buffer');
  assert.equal(a.body[1], b.body[1]);
  assert.notEqual(a.body[2], b.body[2], 'the chunk with each proxy own clusters is not shared');
  assert.equal(decode(a).nonce, 'a');
  assert.equal(decode(b).nonce, 'b', 'per-stream header fields stay per stream');
  assert.deepEqual(
    decode(b)
      .resources!.slice(-2)
      .map((r) => decodeResource(r).name),
    ['outbound|9080||own-b0.default.svc.cluster.local', 'outbound|9080||own-b1.default.svc.cluster.local'],
  );
  const single = encodeDiscoveryResponse(header('c'), [shared[0]]);
  assert.deepEqual(single.body, [framedResource(shared[0])], 'one resource is sent as its cached framing');
});

test('a delta response decodes with removed names, versions and names per resource', () => {
  const anys = clusters(70, 'd');
  const parts = deltaResponseWithBody(
    { systemVersionInfo: 'v9', typeUrl: TypeUrl.CLUSTER, nonce: 'n', controlPlaneId: 'm', removed: ['gone'] },
    resourcesBody(
      anys.map((any, i) => framedDeltaResource(any, `outbound|9080||d${i}.default.svc.cluster.local`)),
    ),
  );
  const res = decodeDelta(parts);
  assert.equal(res.systemVersionInfo, 'v9');
  assert.deepEqual(res.removedResources, ['gone']);
  assert.equal(res.resources!.length, 70);
  assert.equal(res.resources![69].name, 'outbound|9080||d69.default.svc.cluster.local');
  assert.equal(res.resources![69].version!.length, 22);
  assert.equal(
    decodeResource(res.resources![69].resource!).name,
    'outbound|9080||d69.default.svc.cluster.local',
  );
});
