// Tests that equal subscriptions share one name list and Set, whatever order or repeats they came in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedSubscription, MAX_CANDIDATES, NO_NAMES, subscriptionNames } from './subscription-names.js';

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

test('a change to a held list: the same change to the same list is one answer, equal to the list made afresh', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `outbound|9080||svc-${i}.default.svc.cluster.local`);
  const held = subscriptionNames(names);
  const add = [
    'outbound|9080||new.default.svc.cluster.local',
    'outbound|9080|v1|new.default.svc.cluster.local',
  ];
  const next = changedSubscription(held, add, [names[7]]);
  const fresh = subscriptionNames([...names.filter((_, i) => i !== 7), ...add]);
  assert.equal(next, fresh, 'the shared list of those names');
  assert.equal(next.list.length, 3001);
  assert.ok(!next.set.has(names[7]) && next.set.has(add[1]));
  // A second proxy holding the same list and sending the same change gets the same object.
  assert.equal(changedSubscription(held, [...add], [names[7]]), next);
  // Another change, or the same change to another list, is its own answer.
  assert.notEqual(changedSubscription(held, add, []), next);
  assert.deepEqual(changedSubscription(next, [], [add[0]]).list.includes(add[0]), false);
  assert.equal(changedSubscription(held, [], []), held, 'no change: the held list');
  assert.equal(changedSubscription(held, [names[0]], []), held, 'subscribing to a held name changes nothing');
});

test('an unsorted list as clients send it is found again without sorting, and a caller may change its array after', () => {
  const names = Array.from(
    { length: 3000 },
    (_, i) => `outbound|9080||raw-${(i * 7919) % 3000}.default.svc.cluster.local`,
  );
  // Counts sorts while `f` runs.
  const sortsIn = (f: () => void): number => {
    const sort = Array.prototype.sort;
    let n = 0;
    Array.prototype.sort = function (this: unknown[], ...args: Parameters<typeof sort>) {
      n++;
      return sort.apply(this, args);
    } as typeof sort;
    try {
      f();
    } finally {
      Array.prototype.sort = sort;
    }
    return n;
  };
  const sent = names.slice();
  let a = NO_NAMES;
  assert.ok(sortsIn(() => (a = subscriptionNames(sent))) > 0, 'a new list is sorted once');
  sent[0] = 'changed after the call';
  let b = NO_NAMES;
  assert.equal(
    sortsIn(() => (b = subscriptionNames(names.slice()))),
    0,
    'the same order again: no sort',
  );
  assert.equal(b, a);
  assert.equal(a.list.length, 3000);
  assert.ok(
    a.list.every((n, i) => i === 0 || a.list[i - 1] < n),
    'sorted',
  );
  assert.equal(subscriptionNames([...names].sort()), a, 'the sorted list is the same object');
  assert.equal(subscriptionNames([...names].reverse()), a, 'so is another order');
  // Another list with the same length and sampled names is not mistaken for it.
  const other = names.slice();
  other[1] = 'outbound|9080||other.default.svc.cluster.local';
  assert.notEqual(subscriptionNames(other), a);
});
