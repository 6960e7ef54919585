// A proxy's encoded resources of one type, as the xDS server holds them per stream (what it last sent).
// Thousands of proxies hold one list per type, and a sidecar's clusters are one list shared by its whole
// group (the outbound clusters) followed by a few of its own (inbound, BlackHole, Passthrough). Such a
// list keeps the shared part as `base`, one object every proxy of the group points at, and only its own
// resources in its arrays: 2000 proxies hold 2000 three-entry tails instead of 2000 copies of 3000
// entries, and a diff compares the shared parts once for all of them.
import type { AnyMessage } from './protos.js';

/** Encoded resources with their names, index by index: `base`'s first, then this list's own. */
export interface Encoded {
  /** Resources that come first, shared with other lists; a base has no base of its own. */
  readonly base?: Encoded;
  readonly names: string[];
  readonly anys: AnyMessage[];
}

/** How many resources the list has, its base's included. */
export function encodedSize(e: Encoded): number {
  return e.base === undefined ? e.anys.length : e.base.anys.length + e.anys.length;
}

/** The name at index `i` of the whole list. */
export function encodedName(e: Encoded, i: number): string {
  const b = e.base;
  if (b === undefined) return e.names[i];
  return i < b.names.length ? b.names[i] : e.names[i - b.names.length];
}

/** The resource at index `i` of the whole list. */
export function encodedAny(e: Encoded, i: number): AnyMessage {
  const b = e.base;
  if (b === undefined) return e.anys[i];
  return i < b.anys.length ? b.anys[i] : e.anys[i - b.anys.length];
}

/** The resource named `name`, or undefined. */
export function encodedByName(e: Encoded, name: string): AnyMessage | undefined {
  let i = e.names.indexOf(name);
  if (i >= 0) return e.anys[i];
  if (e.base === undefined) return undefined;
  i = e.base.names.indexOf(name);
  return i >= 0 ? e.base.anys[i] : undefined;
}

/**
 * The names of `wanted` the list does not have. A few names (a subscription adding a service's clusters)
 * are looked up one by one; only many build a Set of the list's names.
 */
export function missingNames(e: Encoded, wanted: readonly string[]): string[] {
  if (wanted.length <= 16) return wanted.filter((n) => encodedByName(e, n) === undefined);
  const have = new Set(encodedNames(e));
  return wanted.filter((n) => !have.has(n));
}

/** Every name in order (a new array when the list has a base). */
export function encodedNames(e: Encoded): string[] {
  return e.base === undefined ? e.names : [...e.base.names, ...e.names];
}

/** Every resource in order (a new array when the list has a base). */
export function encodedAnys(e: Encoded): AnyMessage[] {
  return e.base === undefined ? e.anys : [...e.base.anys, ...e.anys];
}

/** Generated lists that begin with a list shared by many proxies: that shared list. */
const prefixes = new WeakMap<readonly object[], readonly object[]>();

/**
 * `shared` followed by `own`, remembering that the first part is `shared` (the same array for every proxy
 * that gets it), so its encoding can be the base every proxy's list points at.
 */
export function withSharedPrefix<T extends object>(shared: readonly T[], own: readonly T[]): T[] {
  const all = [...shared, ...own];
  if (shared.length > 0) prefixes.set(all, shared);
  return all;
}

/** The shared list `list` begins with (see {@link withSharedPrefix}), or undefined. */
export function sharedPrefixOf(list: readonly object[]): readonly object[] | undefined {
  return prefixes.get(list);
}
