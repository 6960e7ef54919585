// Narrowing helpers for reading canonical Envoy config (plain JSON) without casts at every step.
import type { Envoy } from '../envoy.js';

/** `x` as an object, or `{}` when it is not one. */
export function obj(x: unknown): Envoy {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Envoy) : {};
}

/** `x` as an array of objects, or `[]`. */
export function arr(x: unknown): Envoy[] {
  return Array.isArray(x) ? x.map(obj) : [];
}
