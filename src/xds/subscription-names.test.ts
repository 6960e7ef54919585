// Tests that equal subscriptions share one name list and Set, whatever order or repeats they came in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_NAMES, subscriptionNames } from './subscription-names.js';

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

test('names with the separator the fingerprint joins on are still told apart', () => {
  const joined = subscriptionNames(['a\nb']);
  const split = subscriptionNames(['a', 'b']);
  assert.notEqual(joined, split);
  assert.deepEqual(joined.list, ['a\nb']);
  assert.deepEqual(split.list, ['a', 'b']);
});
