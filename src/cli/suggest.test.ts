// "Did you mean": near misses by edit distance or prefix, nearest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suggestionLine, suggestions } from './suggest.js';

const COMMANDS = [
  'apply',
  'delete',
  'down',
  'get',
  'logs',
  'proxy',
  'proxy-config',
  'proxy-status',
  'status',
  'up',
];

test('transpositions, typos and prefixes are suggested; far words are not', () => {
  assert.deepEqual(suggestions('stauts', COMMANDS), ['status']);
  assert.deepEqual(suggestions('aply', COMMANDS), ['apply']);
  assert.deepEqual(suggestions('proxy-s', COMMANDS), ['proxy-status', 'proxy']);
  assert.deepEqual(suggestions('frobnicate', COMMANDS), []);
  assert.deepEqual(suggestions('', COMMANDS), []);
});

test('nearest first; suggestionLine formats or stays empty', () => {
  assert.deepEqual(suggestions('gte', COMMANDS).slice(0, 1), ['get']);
  assert.equal(
    suggestionLine('--namspace', ['--namespace', '--help'], ' (did you mean %s?)'),
    ' (did you mean --namespace?)',
  );
  assert.equal(suggestionLine('--zzz', ['--namespace'], ' (did you mean %s?)'), '');
});
