// xxHash64: published test vectors, and agreement with a straightforward BigInt implementation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineHash, hash53, HASH_SPACE, xxh64Hex } from './xxhash64.js';

const M = (1n << 64n) - 1n;
const P = [
  0x9e3779b185ebca87n,
  0xc2b2ae3d27d4eb4fn,
  0x165667b19e3779f9n,
  0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n,
];
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const rnd = (acc: bigint, v: bigint): bigint => (rotl((acc + v * P[1]) & M, 31n) * P[0]) & M;

/** Reference xxHash64 written directly from the algorithm's description, on BigInt. */
function reference(buf: Buffer, seed: bigint): bigint {
  const len = buf.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v = [(seed + P[0] + P[1]) & M, (seed + P[1]) & M, seed, (seed - P[0]) & M];
    for (; i + 32 <= len; i += 32) v = v.map((x, k) => rnd(x, buf.readBigUInt64LE(i + 8 * k)));
    h = (rotl(v[0], 1n) + rotl(v[1], 7n) + rotl(v[2], 12n) + rotl(v[3], 18n)) & M;
    for (const x of v) h = ((((h ^ rnd(0n, x)) * P[0]) & M) + P[3]) & M;
  } else h = (seed + P[4]) & M;
  h = (h + BigInt(len)) & M;
  for (; i + 8 <= len; i += 8) h = (((rotl(h ^ rnd(0n, buf.readBigUInt64LE(i)), 27n) * P[0]) & M) + P[3]) & M;
  if (i + 4 <= len) {
    h = ((rotl(h ^ ((BigInt(buf.readUInt32LE(i)) * P[0]) & M), 23n) * P[1]) & M) + P[2];
    h &= M;
    i += 4;
  }
  for (; i < len; i++) h = (rotl(h ^ ((BigInt(buf[i]) * P[4]) & M), 11n) * P[0]) & M;
  h ^= h >> 33n;
  h = (h * P[1]) & M;
  h ^= h >> 29n;
  h = (h * P[2]) & M;
  h ^= h >> 32n;
  return h;
}

describe('xxHash64', () => {
  it('matches the published vectors', () => {
    assert.equal(xxh64Hex(''), 'ef46db3751d8e999');
    assert.equal(xxh64Hex('a'), 'd24ec4f1a98c6e5b');
    assert.equal(xxh64Hex('abc'), '44bc2cf5ad770999');
  });

  it('agrees with a BigInt reference for lengths 0..100, seeds 0 and 1, and non-ASCII text', () => {
    for (let n = 0; n <= 100; n++) {
      let s = '';
      for (let k = 0; k < n; k++) s += String.fromCharCode(33 + ((k * 7 + n) % 90));
      for (const seed of [0, 1]) {
        const want = reference(Buffer.from(s), BigInt(seed)).toString(16).padStart(16, '0');
        assert.equal(xxh64Hex(s, seed), want, `len ${n} seed ${seed}`);
      }
    }
    const u = 'héllo wörld ✓ 日本語 — a longer key to cross the 32-byte stripe';
    assert.equal(xxh64Hex(u), reference(Buffer.from(u), 0n).toString(16).padStart(16, '0'));
  });

  it('hash53 is the top 53 bits, an exact integer below 2^53', () => {
    const full = BigInt('0x' + xxh64Hex('10.0.0.1:8080_0'));
    const h = hash53('10.0.0.1:8080_0');
    assert.ok(Number.isSafeInteger(h) && h >= 0 && h < HASH_SPACE);
    assert.equal(BigInt(h), full >> 11n);
  });

  it('combineHash rotates then xors, staying in range', () => {
    const a = hash53('x');
    const b = hash53('y');
    const c = combineHash(a, b);
    assert.ok(Number.isSafeInteger(c) && c >= 0 && c < HASH_SPACE);
    const rot = ((BigInt(a) << 1n) | (BigInt(a) >> 52n)) & ((1n << 53n) - 1n);
    assert.equal(BigInt(c), rot ^ BigInt(b));
  });
});
