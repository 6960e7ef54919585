// Restart backoff: 1 s doubling to 30 s, back to 1 s after 60 s of uptime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('delays double from 1 s and cap at 30 s while the process keeps crashing', () => {
  const b = new Backoff();
  const delays = Array.from({ length: 8 }, () => b.next(100));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('a run of 60 s or more resets the sequence; a shorter one does not', () => {
  const b = new Backoff();
  b.next(0);
  b.next(0);
  b.next(0);
  assert.equal(b.next(59_999), 8000);
  assert.equal(b.next(60_000), 1000);
  assert.equal(b.next(10), 2000);
});

test('settings are configurable', () => {
  const b = new Backoff({ initialMs: 50, maxMs: 120, resetAfterMs: 500 });
  assert.deepEqual([b.next(0), b.next(0), b.next(0), b.next(600)], [50, 100, 120, 50]);
});
