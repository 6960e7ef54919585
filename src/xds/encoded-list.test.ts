// Encoded lists with a shared base: a sidecar's clusters are its group's outbound list (one encoding held
// by every proxy of the group) followed by its own; reading, encoding and diffing see one list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeResources } from './ads-stream.js';
import { diff } from './delta-stream.js';
import {
  encodedAny,
  encodedAnys,
  encodedByName,
  encodedName,
  encodedNames,
  encodedSize,
  missingNames,
  sharedPrefixOf,
  withSharedPrefix,
  type Encoded,
} from './encoded-list.js';
import { edsCluster } from './test-util.js';
import type { AnyMessage } from './protos.js';
import { TypeUrl } from './type-urls.js';

const HOST = { immutableResources: true, log: (): void => {} };

/** What a delta client holds after a diff: names to Any objects. */
function flat(e: Encoded): Map<string, AnyMessage> {
  return new Map(encodedNames(e).map((n, i) => [n, encodedAny(e, i)]));
}

test('withSharedPrefix: the list is shared ++ own, and remembers its shared part', () => {
  const shared = [{ name: 'a' }, { name: 'b' }];
  const all = withSharedPrefix(shared, [{ name: 'own' }]);
  assert.deepEqual(
    all.map((r) => r.name),
    ['a', 'b', 'own'],
  );
  assert.equal(sharedPrefixOf(all), shared);
  assert.equal(sharedPrefixOf([...all]), undefined, 'a copy is a list of its own');
  assert.equal(sharedPrefixOf(withSharedPrefix([], [{ name: 'own' }])), undefined, 'nothing shared');
});

test('encodeResources: proxies of one group hold one base encoding and their own tails', () => {
  const outbound = ['x', 'y', 'z'].map((n) => edsCluster(`outbound|80||${n}`));
  const p1 = withSharedPrefix(outbound, [edsCluster('inbound|9080||')]);
  const p2 = withSharedPrefix(outbound, [edsCluster('inbound|9080||'), edsCluster('BlackHoleCluster')]);
  const e1 = encodeResources(HOST, 'p1', TypeUrl.CLUSTER, p1, () => undefined);
  const e2 = encodeResources(HOST, 'p2', TypeUrl.CLUSTER, p2, () => undefined);
  assert.ok(e1.base, 'a based list');
  assert.equal(e1.base, e2.base, 'one base object for both proxies');
  assert.deepEqual(e1.names, ['inbound|9080||'], 'each holds only its own');
  assert.equal(encodedSize(e2), 5);
  assert.deepEqual(encodedNames(e2), [
    'outbound|80||x',
    'outbound|80||y',
    'outbound|80||z',
    'inbound|9080||',
    'BlackHoleCluster',
  ]);
  assert.equal(encodedName(e2, 4), 'BlackHoleCluster');
  assert.equal(encodedAny(e2, 1), e1.base.anys[1]);
  assert.equal(encodedByName(e2, 'outbound|80||z'), e2.base!.anys[2]);
  assert.equal(encodedByName(e2, 'BlackHoleCluster'), e2.anys[1]);
  assert.equal(encodedByName(e2, 'nope'), undefined);
  assert.equal(encodedAnys(e2).length, 5);
  assert.equal(
    encodeResources(HOST, 'p1', TypeUrl.CLUSTER, p1, () => undefined),
    e1,
    'cached per list',
  );
});

test('encodeResources: a shared resource that fails to encode leaves that proxy a flat list with its last good', () => {
  const good = edsCluster('outbound|80||good');
  const bad = { ...edsCluster('outbound|80||bad'), connectTimeout: 'not a duration' };
  const lastGood: AnyMessage = { type_url: TypeUrl.CLUSTER, value: Buffer.from('last good') };
  const logged: string[] = [];
  const host = { immutableResources: true, log: (_l: string, m: string): number => logged.push(m) };
  const list = withSharedPrefix([good, bad], [edsCluster('inbound|9080||')]);
  const e = encodeResources(host, 'p1', TypeUrl.CLUSTER, list, (n) =>
    n === 'outbound|80||bad' ? lastGood : undefined,
  );
  assert.equal(e.base, undefined, 'no shared base: it holds its own last good');
  assert.deepEqual(e.names, ['outbound|80||good', 'outbound|80||bad', 'inbound|9080||']);
  assert.equal(e.anys[1], lastGood);
  assert.equal(logged.length, 1, `one error logged: ${logged.join(' | ')}`);
  assert.match(logged[0], /invalid cds outbound\|80\|\|bad for p1, kept the last good version/);
});

test('diff: based lists diff their bases once and their own parts alone, as a flat diff would', () => {
  const any = (text: string): AnyMessage => ({ type_url: TypeUrl.CLUSTER, value: Buffer.from(text) });
  const [a, b, c, in1, in2] = ['a', 'b', 'c', 'in1', 'in2'].map(any);
  const base1: Encoded = { names: ['a', 'b', 'c'], anys: [a, b, c] };
  // b changed, c removed, d added.
  const base2: Encoded = { names: ['a', 'b', 'd'], anys: [a, any('b2'), any('d')] };
  const prev1: Encoded = { base: base1, names: ['in'], anys: [in1] };
  const next1: Encoded = { base: base2, names: ['in'], anys: [in1] };
  const prev2: Encoded = { base: base1, names: ['in', 'old'], anys: [in2, any('old')] };
  const next2: Encoded = { base: base2, names: ['in'], anys: [any('in2 changed')] };

  const d1 = diff(prev1, next1, null);
  assert.deepEqual([...d1.changed], [1, 2]);
  assert.deepEqual([...d1.removed], ['c']);
  const d2 = diff(prev2, next2, null);
  assert.deepEqual([...d2.changed], [1, 2, 3], "the base's changes and its own changed `in`");
  assert.deepEqual([...d2.removed].sort(), ['c', 'old']);

  // The same answer as diffing the flat lists, for each.
  for (const [p, n, d] of [
    [prev1, next1, d1],
    [prev2, next2, d2],
  ] as const) {
    const ref = diff(
      { names: encodedNames(p), anys: encodedAnys(p) },
      { names: encodedNames(n), anys: encodedAnys(n) },
      null,
    );
    assert.deepEqual([...d.changed], [...ref.changed]);
    assert.deepEqual([...d.removed].sort(), [...ref.removed].sort());
  }

  // An unchanged base (an endpoint-only push): only the own part is compared.
  const same = diff(prev2, { base: base1, names: ['in'], anys: [in2] }, null);
  assert.deepEqual([...same.changed], []);
  assert.deepEqual([...same.removed], ['old']);

  // A name that moved from the base into the own part is sent, not removed.
  const moved = diff(
    prev1,
    { base: { names: ['a', 'b'], anys: [a, b] }, names: ['in', 'c'], anys: [in1, c] },
    null,
  );
  assert.deepEqual([...moved.removed], []);
  assert.deepEqual([...moved.changed], [3]);

  // What the client then holds equals the new list.
  const held = flat(prev2);
  for (const n of d2.removed) held.delete(n);
  for (const i of d2.changed) held.set(encodedName(next2, i), encodedAny(next2, i));
  assert.deepEqual([...held.keys()].sort(), encodedNames(next2).sort());
  for (const [n, x] of held) assert.equal(x, encodedByName(next2, n));
});

test('missingNames: names the list lacks, base and own part both searched, few or many asked', () => {
  const any = (text: string): AnyMessage => ({ type_url: TypeUrl.CLUSTER, value: Buffer.from(text) });
  const base: Encoded = { names: ['a', 'b'], anys: [any('a'), any('b')] };
  const e: Encoded = { base, names: ['own'], anys: [any('own')] };
  assert.deepEqual(missingNames(e, ['a', 'own', 'x']), ['x']);
  const many = Array.from({ length: 40 }, (_, i) => `n${i}`);
  assert.deepEqual(missingNames(e, [...many, 'b', 'own']), many);
  assert.deepEqual(missingNames({ names: [], anys: [] }, ['a']), ['a']);
});
