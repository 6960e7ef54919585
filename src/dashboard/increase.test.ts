// Window increases: baseline, counter restarts, series that appear, windows longer than the history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { increaseOver, retain, seriesKey, type Scrape } from './increase.js';

const s = (at: number, v: number, code = '200'): Scrape => ({
  at,
  samples: [{ name: 'istio_requests_total', labels: { response_code: code }, value: v }],
});

test('the rise since the scrape at the window start, over the seconds covered', () => {
  const r = increaseOver([[s(0, 5), s(10_000, 10), s(20_000, 40)]], 10_000, 20_000);
  assert.equal(r.series[0].increase, 30);
  assert.equal(r.seconds, 10);
});

test('a drop is a restart: the new value counts whole', () => {
  const r = increaseOver([[s(0, 50), s(1000, 60), s(2000, 4)]], 60_000, 2000);
  assert.equal(r.series[0].increase, 14);
  assert.equal(r.seconds, 2, 'history shorter than the window: only what it covers');
});

test('two targets with the same labels add up; one scrape alone adds nothing', () => {
  const r = increaseOver([[s(0, 1), s(1000, 3)], [s(0, 0), s(1000, 5)], [s(0, 100)]], 60_000, 1000);
  assert.equal(r.series.length, 1);
  assert.equal(r.series[0].increase, 7);
});

test('a series missing from the baseline counts from zero', () => {
  const r = increaseOver(
    [[s(0, 1), { at: 1000, samples: [...s(0, 1).samples, ...s(0, 2, '503').samples] }]],
    60_000,
    1000,
  );
  const byCode = Object.fromEntries(r.series.map((x) => [x.labels.response_code, x.increase]));
  assert.deepEqual(byCode, { '503': 2 });
});

test('series keys sort labels', () => {
  assert.equal(seriesKey('m', { b: '1', a: 'x"y' }), 'm{a="x\\"y",b="1"}');
});

test('retain keeps every recent scrape and one per coarse step further back', () => {
  const scrapes = Array.from({ length: 100 }, (_, i) => s(i * 1000, i));
  const kept = retain(scrapes, 99_000, 10_000, 30_000, 3_600_000);
  const ats = kept.map((x) => x.at / 1000);
  assert.deepEqual(
    ats.filter((a) => a < 89),
    [0, 30, 60],
  );
  assert.equal(ats.filter((a) => a >= 89).length, 11);
});
