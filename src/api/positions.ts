// Source positions of loaded values, kept beside the plain objects in a WeakMap.
//
// Loaded documents are plain JS objects and arrays (what consumers want); each object remembers
// where it and each of its keys/values came from, so any later stage (validation, analysis, the
// control plane's status) can point at `file:line:col` for a field.

/** A place in a source file; line and col are 1-based. */
export interface Pos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Where one container (object or array) and its entries came from. */
export interface NodePositions {
  /** The container itself. */
  readonly self: Pos;
  /** For objects: key name → position of the key; for arrays: index → position of the item. */
  readonly keys: Map<string | number, Pos>;
  /** key/index → position of the value. */
  readonly values: Map<string | number, Pos>;
}

const table = new WeakMap<object, NodePositions>();

/** Records positions for a container. */
export function setPositions(obj: object, p: NodePositions): void {
  table.set(obj, p);
}

/** Positions recorded for a container, if any. */
export function positionsOf(obj: object): NodePositions | undefined {
  return table.get(obj);
}

/** Position of the value at `key` in `holder`, falling back to the key, then the holder itself. */
export function valuePos(holder: object | undefined, key: string | number | undefined): Pos | undefined {
  if (!holder) return undefined;
  const p = table.get(holder);
  if (!p) return undefined;
  if (key === undefined) return p.self;
  return p.values.get(key) ?? p.keys.get(key) ?? p.self;
}

/** Position of the key `key` in `holder` (for unknown-field errors), falling back to its value. */
export function keyPos(holder: object | undefined, key: string | number): Pos | undefined {
  if (!holder) return undefined;
  const p = table.get(holder);
  if (!p) return undefined;
  return p.keys.get(key) ?? p.values.get(key) ?? p.self;
}

/** Copies the position of `fromKey` in `from` to `toKey` in `to` (used when keys are renamed). */
export function carryPosition(
  from: object,
  fromKey: string | number,
  to: object,
  toKey: string | number,
  self?: Pos,
): void {
  const src = table.get(from);
  let dst = table.get(to);
  if (!dst) {
    const s = self ?? src?.self;
    if (!s) return;
    dst = { self: s, keys: new Map(), values: new Map() };
    table.set(to, dst);
  }
  if (!src) return;
  const k = src.keys.get(fromKey);
  const v = src.values.get(fromKey);
  if (k) dst.keys.set(toKey, k);
  if (v) dst.values.set(toKey, v);
}
