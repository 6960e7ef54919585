// Tests the push debouncer on a fake clock: quiet period, maximum delay, merging, cancel.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { Debouncer } from './debounce.js';

function setup() {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const fired: Array<{ merged: number[]; waited: number; count: number }> = [];
  const d = new Debouncer<number[]>(
    { quietMs: 100, maxDelayMs: 1000 },
    (a, b) => [...a, ...b],
    (merged, firstAt, count) => fired.push({ merged, waited: Date.now() - firstAt, count }),
  );
  return { d, fired };
}

test('requests inside the quiet period merge into one fire after the burst goes quiet', () => {
  const { d, fired } = setup();
  try {
    d.request([1]);
    mock.timers.tick(50);
    d.request([2]);
    mock.timers.tick(99);
    assert.equal(fired.length, 0);
    mock.timers.tick(1);
    assert.deepEqual(fired, [{ merged: [1, 2], waited: 150, count: 2 }]);
    d.request([3]);
    mock.timers.tick(100);
    assert.deepEqual(fired[1], { merged: [3], waited: 100, count: 1 });
  } finally {
    mock.timers.reset();
  }
});

test('a burst that never goes quiet fires at the maximum delay', () => {
  const { d, fired } = setup();
  try {
    for (let t = 0; t < 1500; t += 50) {
      d.request([t]);
      mock.timers.tick(50);
    }
    assert.equal(fired[0].waited, 1000);
    assert.equal(fired[0].count, 20);
    assert.equal(fired.length, 1);
    mock.timers.tick(100);
    assert.equal(fired.length, 2);
  } finally {
    mock.timers.reset();
  }
});

test('flush fires at once; cancel drops the burst; a null-ish value is still a request', () => {
  const { d, fired } = setup();
  try {
    d.request([]);
    d.flush();
    assert.equal(fired.length, 1);
    d.request([7]);
    d.cancel();
    mock.timers.tick(2000);
    assert.equal(fired.length, 1);
    const nulls: Array<number | null> = [];
    const n = new Debouncer<number | null>(
      { quietMs: 10, maxDelayMs: 100 },
      () => null,
      (m) => nulls.push(m),
    );
    n.request(null);
    n.request(null);
    mock.timers.tick(10);
    assert.deepEqual(nulls, [null]);
  } finally {
    mock.timers.reset();
  }
});
