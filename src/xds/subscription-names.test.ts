// Tests that equal subscriptions share one name list and Set, whatever order or repeats they came in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CANDIDATES, NO_NAMES, subscriptionNames } from './subscription-names.js';

test('equal name lists are one frozen object; different lists are not', () => {
  const a = subscriptionNames(['outbound|80||b', 'outbound|80||a', 'outbound|80||b']);
  const b = subscriptionNames(new Set(['outbound|80||a', 'outbound|80||b']));
  assert.equal(a, b);
  assert.deepEqual(a.list, ['outbound|80||a', 'outbound|80||b']);
  assert.ok(Object.isFrozen(a.list));
  assert.ok(a.set.has('outbound|80||b'));
  assert.notEqual(subscriptionNames(['outbound|80||a']), a);
  assert.equal(subscriptionNames([]), NO_NAMES);
});

test('lists that look alike by length and sampled names are still told apart', () => {
  const a = subscriptionNames(['a', 'm', 'n', 'z']);
  const b = subscriptionNames(['a', 'l', 'n', 'z']);
  assert.notEqual(a, b);
  assert.deepEqual(b.list, ['a', 'l', 'n', 'z']);
  assert.equal(subscriptionNames(['z', 'n', 'l', 'a']), b, 'and each is found again');
});

test("the caller's array is neither kept nor frozen", () => {
  const mine = ['outbound|80||x', 'outbound|80||y'];
  const subs = subscriptionNames(mine);
  assert.ok(!Object.isFrozen(mine));
  mine.push('outbound|80||z');
  assert.deepEqual(subs.list, ['outbound|80||x', 'outbound|80||y']);
});

test('past a few distinct lists with one key, more such lists are not shared (lookups stay bounded)', () => {
  // Same length, first, middle and last name: one key; they differ at index 1.
  const list = (i: number) => ['a', `b${String(i).padStart(3, '0')}`, 'm', 'y', 'z'];
  const kept = Array.from({ length: MAX_CANDIDATES }, (_, i) => subscriptionNames(list(i)));
  kept.forEach((s, i) => assert.equal(subscriptionNames(list(i)), s, `list ${i} is shared`));
  const extra = subscriptionNames(list(MAX_CANDIDATES));
  assert.deepEqual(extra.list, list(MAX_CANDIDATES));
  assert.notEqual(subscriptionNames(list(MAX_CANDIDATES)), extra, 'one more is answered, not kept');
});
