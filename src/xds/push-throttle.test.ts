// Tests the push throttle: the limit holds, waiters run in order, a failing job frees its slot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PushThrottle } from './push-throttle.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('no more than the limit run at once, and waiters start first come, first served', async () => {
  const t = new PushThrottle(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const gates: Array<() => void> = [];
  const jobs = [0, 1, 2, 3, 4].map((i) =>
    t.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return i;
    }),
  );
  await tick();
  assert.deepEqual(started, [0, 1]);
  assert.equal(t.queued, 3);
  while (gates.length > 0) {
    gates.shift()!();
    await tick();
    await tick();
  }
  assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(t.inFlight, 0);
});

test('a job that throws frees its slot', async () => {
  const t = new PushThrottle(1);
  await assert.rejects(
    t.run(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(await t.run(() => Promise.resolve('next')), 'next');
  assert.equal(t.inFlight, 0);
  assert.throws(() => new PushThrottle(0), /≥ 1/);
});
