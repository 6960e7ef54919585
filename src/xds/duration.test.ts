// The shared Envoy duration helper: JSON text, canonical objects and milliseconds agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationFromMs, durationToMs, parseJsonDuration } from './duration.js';

test('proto3 JSON durations parse to canonical form; other text does not', () => {
  assert.deepEqual(parseJsonDuration('1.5s'), { seconds: 1, nanos: 500_000_000 });
  assert.deepEqual(parseJsonDuration('-0.25s'), { nanos: -250_000_000 });
  assert.deepEqual(parseJsonDuration('0s'), {});
  assert.deepEqual(parseJsonDuration(' 10s '), { seconds: 10 });
  for (const bad of ['1m', '100ms', '1.5', 's', '1.0000000001s', ''])
    assert.equal(parseJsonDuration(bad), undefined, bad);
});

test('milliseconds round-trip through canonical form', () => {
  assert.deepEqual(durationFromMs(0), {});
  assert.deepEqual(durationFromMs(250), { nanos: 250_000_000 });
  assert.deepEqual(durationFromMs(90_000), { seconds: 90 });
  for (const ms of [0, 1, 250, 1500, 3_600_000, 0.5]) assert.equal(durationToMs(durationFromMs(ms)), ms);
  assert.equal(durationToMs({ seconds: '2', nanos: 1_000_000 }), 2001);
});
