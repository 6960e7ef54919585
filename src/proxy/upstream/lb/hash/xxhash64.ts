// xxHash64 (the hash Envoy uses for ring hash, maglev and hash policies) over UTF-8 strings, without
// allocating: 64-bit arithmetic is done on two uint32 halves held in module-level registers.

// The five 64-bit primes of xxHash64 as (high, low) 32-bit halves.
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;

// Result registers of the 64-bit helpers below (a typed array: uint32 values above 2^31 would be
// boxed as heap numbers in plain variables, allocating on every write).
const R = new Uint32Array(2);

/** (ah:al) * (bh:bl) mod 2^64 → R[0]:R[1]. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  R[1] = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[0] = (hi + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 → R[0]:R[1]. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  R[1] = lo >>> 0;
  R[0] = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotates (h:l) left by 0 < r < 32 → R[0]:R[1]. */
function rotl(h: number, l: number, r: number): void {
  R[0] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[1] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** xxHash64's round: acc = rotl(acc + input * P2, 31) * P1 → R[0]:R[1]. */
function round(ah: number, al: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(ah, al, R[0], R[1]);
  rotl(R[0], R[1], 31);
  mul(R[0], R[1], P1H, P1L);
}

/** mergeRound: acc = (acc ^ round(0, val)) * P1 + P4 → R[0]:R[1]. */
function mergeRound(ah: number, al: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((ah ^ R[0]) >>> 0, (al ^ R[1]) >>> 0, P1H, P1L);
  add(R[0], R[1], P4H, P4L);
}

/** xxHash64 of `len` bytes of `b` with a 32-bit `seed` → R[0]:R[1]. */
function xxh64(b: Uint8Array, len: number, seed: number): void {
  let i = 0;
  let hh: number;
  let hl: number;
  if (len >= 32) {
    add(0, seed, P1H, P1L);
    add(R[0], R[1], P2H, P2L);
    let v1h = R[0];
    let v1l = R[1];
    add(0, seed, P2H, P2L);
    let v2h = R[0];
    let v2l = R[1];
    let v3h = 0;
    let v3l = seed >>> 0;
    // seed - P1 = seed + (2^64 - P1)
    add(0, seed, ~P1H >>> 0, ((~P1L >>> 0) + 1) >>> 0);
    let v4h = R[0];
    let v4l = R[1];
    for (; i + 32 <= len; i += 32) {
      round(v1h, v1l, u32le(b, i + 4), u32le(b, i));
      v1h = R[0];
      v1l = R[1];
      round(v2h, v2l, u32le(b, i + 12), u32le(b, i + 8));
      v2h = R[0];
      v2l = R[1];
      round(v3h, v3l, u32le(b, i + 20), u32le(b, i + 16));
      v3h = R[0];
      v3l = R[1];
      round(v4h, v4l, u32le(b, i + 28), u32le(b, i + 24));
      v4h = R[0];
      v4l = R[1];
    }
    rotl(v1h, v1l, 1);
    hh = R[0];
    hl = R[1];
    rotl(v2h, v2l, 7);
    add(hh, hl, R[0], R[1]);
    hh = R[0];
    hl = R[1];
    rotl(v3h, v3l, 12);
    add(hh, hl, R[0], R[1]);
    hh = R[0];
    hl = R[1];
    rotl(v4h, v4l, 18);
    add(hh, hl, R[0], R[1]);
    mergeRound(R[0], R[1], v1h, v1l);
    mergeRound(R[0], R[1], v2h, v2l);
    mergeRound(R[0], R[1], v3h, v3l);
    mergeRound(R[0], R[1], v4h, v4l);
    hh = R[0];
    hl = R[1];
  } else {
    add(0, seed, P5H, P5L);
    hh = R[0];
    hl = R[1];
  }
  add(hh, hl, 0, len);
  hh = R[0];
  hl = R[1];
  for (; i + 8 <= len; i += 8) {
    round(0, 0, u32le(b, i + 4), u32le(b, i));
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 27);
    mul(R[0], R[1], P1H, P1L);
    add(R[0], R[1], P4H, P4L);
    hh = R[0];
    hl = R[1];
  }
  if (i + 4 <= len) {
    mul(0, u32le(b, i), P1H, P1L);
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 23);
    mul(R[0], R[1], P2H, P2L);
    add(R[0], R[1], P3H, P3L);
    hh = R[0];
    hl = R[1];
    i += 4;
  }
  for (; i < len; i++) {
    mul(0, b[i], P5H, P5L);
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 11);
    mul(R[0], R[1], P1H, P1L);
    hh = R[0];
    hl = R[1];
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0; // h ^= h >> 33
  mul(hh, hl, P2H, P2L);
  hh = R[0];
  hl = (R[1] ^ ((R[1] >>> 29) | (R[0] << 3))) >>> 0; // h ^= h >> 29
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  R[1] = (R[1] ^ R[0]) >>> 0; // h ^= h >> 32
}

let scratch = Buffer.allocUnsafe(1024);

function encode(s: string): number {
  const n = s.length;
  if (n * 3 > scratch.length) scratch = Buffer.allocUnsafe(n * 3);
  // ASCII (the usual header value or address) is copied directly; anything else goes through UTF-8.
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return scratch.write(s, 0, 'utf8');
    scratch[i] = c;
  }
  return n;
}

/** 2^32 and 2^21, to place the high half above 32 (or 11 dropped) low bits. */
const TWO32 = 4294967296;
const TWO21 = 2097152;

/**
 * The top 53 bits of xxHash64(UTF-8 of `s`, `seed`) as an exact non-negative integer (below 2^53),
 * the form hash keys take in Mizzen (a JS number holds them exactly and compares fast).
 */
export function hash53(s: string, seed = 0): number {
  xxh64(scratch, encode(s), seed);
  return R[0] * TWO21 + (R[1] >>> 11);
}

/** The full 64-bit xxHash64 as 16 hex digits (tests and debugging). */
export function xxh64Hex(s: string, seed = 0): string {
  xxh64(scratch, encode(s), seed);
  return R[0].toString(16).padStart(8, '0') + R[1].toString(16).padStart(8, '0');
}

/** 2^53, the exclusive upper bound of hash keys. */
export const HASH_SPACE = TWO32 * TWO21;

/** Envoy's combination of several hash policies' keys: rotate left by one bit (in 53 bits), xor. */
export function combineHash(a: number, b: number): number {
  const top = a >= HASH_SPACE / 2 ? 1 : 0;
  const rot = (a - top * (HASH_SPACE / 2)) * 2 + top;
  const hi = ((Math.floor(rot / TWO32) ^ Math.floor(b / TWO32)) >>> 0) & (TWO21 - 1);
  const lo = ((rot % TWO32) ^ (b % TWO32)) >>> 0;
  return hi * TWO32 + lo;
}

/** A uniformly random hash key (used when a request yields no key, as Envoy does). */
export function randomHash(): number {
  return Math.floor(Math.random() * TWO21) * TWO32 + Math.floor(Math.random() * TWO32);
}
