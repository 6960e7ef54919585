// Validation combinators: typed, positioned checking of plain documents against a field schema.
//
// A Validator takes a raw value and where it sits, reports problems to a Checker, and returns the
// normalized value (camelCase keys, positions carried over) or undefined when the value is unusable.
// Kind files compose these into a schema for every field of their resource.
import type { Diagnostic, Severity } from './diagnostic.js';
import { carryPosition, keyPos, valuePos, setPositions, positionsOf, type Pos } from './positions.js';
import { didYouMean } from './suggest.js';
import { parseDuration } from './duration.js';

/** Where a value sits: its field path, and the container + key it was read from (for positions). */
export interface At {
  readonly path: string;
  readonly holder: object | undefined;
  readonly key: string | number | undefined;
}

/** Collects diagnostics for one document. */
export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    /** Fallback position when a value has none recorded. */
    readonly docPos: Pos,
    /** `Kind namespace/name`, stamped on every diagnostic. */
    public resource?: string,
  ) {}

  /** Reports a problem at the value `at` points to. */
  report(severity: Severity, at: At, message: string, code?: string, onKey = false): void {
    const p =
      (onKey && at.key !== undefined ? keyPos(at.holder, at.key) : valuePos(at.holder, at.key)) ??
      this.docPos;
    this.diagnostics.push({
      severity,
      file: p.file,
      line: p.line,
      col: p.col,
      path: at.path,
      message,
      ...(code ? { code } : {}),
      ...(this.resource ? { resource: this.resource } : {}),
    });
  }
  error(at: At, message: string, code?: string): void {
    this.report('error', at, message, code);
  }
  warn(at: At, message: string, code?: string): void {
    this.report('warning', at, message, code);
  }
  /** True when errors were reported since `mark` (a previous diagnostics length). */
  failedSince(mark: number): boolean {
    for (let i = mark; i < this.diagnostics.length; i++)
      if (this.diagnostics[i].severity === 'error') return true;
    return false;
  }
}

/** Checks one value. Returns the normalized value, or undefined when it is unusable. */
export type Validator<T> = (value: unknown, at: At, c: Checker) => T | undefined;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The At of `key` inside the container `holder` found at `at`. */
export function child(at: At, holder: object, key: string | number): At {
  let path: string;
  if (typeof key === 'number') path = `${at.path}[${key}]`;
  else if (IDENT.test(key)) path = at.path ? `${at.path}.${key}` : key;
  else path = `${at.path}[${JSON.stringify(key)}]`;
  return { path, holder, key };
}

/** A root At for a whole document. */
export function rootAt(doc: object): At {
  return { path: '', holder: doc, key: undefined };
}

/** Short description of a value's type and content for messages: `number 5`, `string "x"`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

// ---------- scalars ----------

/** Extra check on an already type-checked value; report through `c` and return nothing. */
export type Check<T> = (v: T, at: At, c: Checker) => void;

/** A string, optionally checked further. */
export function str(check?: Check<string>): Validator<string> {
  return (v, at, c) => {
    if (typeof v !== 'string') {
      c.error(at, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    check?.(v, at, c);
    return v;
  };
}

/** A non-empty string. */
export function nonEmpty(check?: Check<string>): Validator<string> {
  return str((v, at, c) => {
    if (v.length === 0) c.error(at, 'must not be empty');
    else check?.(v, at, c);
  });
}

/** An integer within [min, max]. */
export function int(min = -(2 ** 53), max = 2 ** 53, check?: Check<number>): Validator<number> {
  return (v, at, c) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      const range =
        min <= -(2 ** 31) && max >= 2 ** 31 ? 'an integer' : `an integer between ${min} and ${max}`;
      c.error(at, `must be ${range}, got ${describe(v)}`);
      return undefined;
    }
    check?.(v, at, c);
    return v;
  };
}

/** Unsigned 32-bit integer. */
export const uint32 = (): Validator<number> => int(0, 4294967295);
/** Signed 32-bit integer. */
export const int32 = (): Validator<number> => int(-2147483648, 2147483647);

/** A finite number within [min, max]. */
export function num(min = -Infinity, max = Infinity): Validator<number> {
  return (v, at, c) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      const range = Number.isFinite(min) || Number.isFinite(max) ? ` between ${min} and ${max}` : '';
      c.error(at, `must be a number${range}, got ${describe(v)}`);
      return undefined;
    }
    return v;
  };
}

/** true or false. */
export function bool(): Validator<boolean> {
  return (v, at, c) => {
    if (typeof v !== 'boolean') {
      c.error(at, `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  };
}

/** One of the listed names (protobuf enum names); `deprecated` names are accepted with a warning. */
export function enumOf<E extends string>(
  values: readonly E[],
  deprecated: Record<string, string> = {},
): Validator<E> {
  return (v, at, c) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) {
      if (deprecated[v]) c.warn(at, `${v} is deprecated: ${deprecated[v]}`, 'MZ-DEPRECATED');
      return v as E;
    }
    c.error(
      at,
      `must be one of ${values.join(', ')}, got ${describe(v)}${typeof v === 'string' ? didYouMean(v, values) : ''}`,
    );
    return undefined;
  };
}

/** A duration string ("1s", "0.5s", "100ms", "1m30s"), returned as written; bounds in milliseconds. */
export function duration(minMs = 1, maxMs = Infinity): Validator<string> {
  return (v, at, c) => {
    if (typeof v !== 'string') {
      c.error(at, `must be a duration string such as "1s" or "250ms", got ${describe(v)}`);
      return undefined;
    }
    const ms = parseDuration(v);
    if (ms === undefined) {
      c.error(at, `must be a duration such as "1s", "0.5s", "250ms" or "1m30s", got ${describe(v)}`);
      return undefined;
    }
    if (ms < minMs) c.error(at, `duration must be at least ${fmtMs(minMs)}, got ${v}`);
    else if (ms > maxMs) c.error(at, `duration must be at most ${fmtMs(maxMs)}, got ${v}`);
    return v;
  };
}

function fmtMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Any JSON value, kept as is (google.protobuf.Struct / Value fields). */
export function anyValue(): Validator<unknown> {
  return (v) => v;
}

// ---------- containers ----------

/** Options for a list. */
export interface ListOptions {
  min?: number;
  max?: number;
}

/** A list whose items all pass `item`; bad items are dropped from the output. */
export function list<T>(item: Validator<T>, opts: ListOptions = {}): Validator<T[]> {
  return (v, at, c) => {
    if (!Array.isArray(v)) {
      c.error(at, `must be a list, got ${describe(v)}`);
      return undefined;
    }
    if (opts.min !== undefined && v.length < opts.min) {
      c.error(at, opts.min === 1 ? 'must have at least one item' : `must have at least ${opts.min} items`);
    }
    if (opts.max !== undefined && v.length > opts.max)
      c.error(at, `must have at most ${opts.max} items, got ${v.length}`);
    const out: T[] = [];
    const self = positionsOf(v)?.self;
    v.forEach((item0, i) => {
      const r = item(item0, child(at, v, i), c);
      if (r !== undefined) {
        carryPosition(v, i, out, out.length, self);
        out.push(r);
      }
    });
    if (!positionsOf(out) && self) setPositions(out, { self, keys: new Map(), values: new Map() });
    return out;
  };
}

/** A map with string keys (labels, headers by name); `key` checks each key. */
export function record<T>(value: Validator<T>, key?: Check<string>): Validator<Record<string, T>> {
  return (v, at, c) => {
    if (!isPlainObject(v)) {
      c.error(at, `must be a map of name to value, got ${describe(v)}`);
      return undefined;
    }
    const out: Record<string, T> = {};
    const self = positionsOf(v)?.self;
    if (self) setPositions(out, { self, keys: new Map(), values: new Map() });
    for (const k of Object.keys(v)) {
      const a = child(at, v, k);
      if (key) {
        const mark = c.diagnostics.length;
        key(k, { ...a }, c);
        // key errors point at the key itself
        for (let i = mark; i < c.diagnostics.length; i++) {
          const p = keyPos(v, k);
          if (p) c.diagnostics[i] = { ...c.diagnostics[i], line: p.line, col: p.col };
        }
      }
      const r = value(v[k], a, c);
      if (r !== undefined) {
        Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
        carryPosition(v, k, out, k);
      }
    }
    return out;
  };
}

/** One field of an object schema. */
export interface FieldSpec<T = unknown> {
  readonly v: Validator<T>;
  /** Missing → error "is required". */
  readonly required?: boolean;
  /** Accepted with a warning saying this (e.g. what to use instead). */
  readonly deprecated?: string;
}

/** Field table of an object: a bare Validator or a FieldSpec per camelCase field name. */
export type Fields = Record<string, Validator<unknown> | FieldSpec>;

/** Options for an object. */
export interface ObjectOptions<T> {
  /** Cross-field rules run on the normalized object when its fields parsed. */
  rules?: (out: T, at: At, c: Checker) => void;
  /** Accept fields not in the table (kept as is). Kubernetes kinds use this for fields Mizzen ignores. */
  allowUnknown?: boolean;
}

function isField(f: Validator<unknown> | FieldSpec): f is FieldSpec {
  return typeof f !== 'function';
}

/** snake_case → lowerCamelCase, as proto3 JSON parsing accepts both. */
export function snakeToCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/** True for `{...}` (not arrays, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An object with known fields. Field names may be written in lowerCamelCase or snake_case; unknown
 * fields are errors with a suggestion; deprecated fields warn; required fields must be present.
 */
export function obj<T>(fields: Fields, opts: ObjectOptions<T> = {}): Validator<T> {
  const names = Object.keys(fields);
  return (v, at, c) => {
    if (!isPlainObject(v)) {
      c.error(
        at,
        `must be an object with fields (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', ...' : ''}), got ${describe(v)}`,
      );
      return undefined;
    }
    const out: Record<string, unknown> = {};
    const self = positionsOf(v)?.self;
    if (self) setPositions(out, { self, keys: new Map(), values: new Map() });
    const mark = c.diagnostics.length;
    const seen = new Map<string, string>();
    for (const raw of Object.keys(v)) {
      let name = raw;
      if (!(name in fields) || !Object.prototype.hasOwnProperty.call(fields, name)) {
        const camel = snakeToCamel(raw);
        if (Object.prototype.hasOwnProperty.call(fields, camel)) name = camel;
      }
      const a = child(at, v, raw);
      if (!Object.prototype.hasOwnProperty.call(fields, name)) {
        if (opts.allowUnknown) {
          Object.defineProperty(out, raw, {
            value: v[raw],
            enumerable: true,
            writable: true,
            configurable: true,
          });
          carryPosition(v, raw, out, raw);
          continue;
        }
        const hint = didYouMean(raw, names);
        const expected = hint || (names.length <= 10 ? `; expected one of: ${names.join(', ')}` : '');
        c.report('error', a, `unknown field "${raw}"${expected}`, 'MZ-UNKNOWN-FIELD', true);
        continue;
      }
      if (seen.has(name)) {
        c.report(
          'error',
          a,
          `field "${name}" is given twice (as "${seen.get(name)}" and "${raw}")`,
          undefined,
          true,
        );
        continue;
      }
      seen.set(name, raw);
      const f = fields[name];
      const spec = isField(f) ? f : { v: f };
      if (spec.deprecated) c.report('warning', a, `deprecated: ${spec.deprecated}`, 'MZ-DEPRECATED', true);
      const r = spec.v(v[raw], a, c);
      if (r !== undefined) {
        out[name] = r;
        carryPosition(v, raw, out, name);
      }
    }
    for (const name of names) {
      const f = fields[name];
      if (isField(f) && f.required && !seen.has(name)) {
        c.error(child(at, v, name), 'is required');
      }
    }
    if (opts.rules && !c.failedSince(mark)) opts.rules(out as T, at, c);
    return out as T;
  };
}

/** A value checked lazily (for recursive schemas, e.g. delegate or nested matchers). */
export function lazy<T>(f: () => Validator<T>): Validator<T> {
  let v: Validator<T> | undefined;
  return (x, at, c) => (v ??= f())(x, at, c);
}

// ---------- rule helpers ----------

/** Reports unless exactly one (or, with allowNone, at most one) of the fields is set. */
export function exactlyOne(
  o: Record<string, unknown>,
  fieldsSet: readonly string[],
  at: At,
  c: Checker,
  allowNone = false,
): void {
  const present = fieldsSet.filter((f) => o[f] !== undefined);
  if (present.length > 1) {
    c.error(at, `only one of ${fieldsSet.join(', ')} may be set, got ${present.join(' and ')}`);
  } else if (present.length === 0 && !allowNone) {
    c.error(at, `one of ${fieldsSet.join(', ')} must be set`);
  }
}

/** The At of a field inside a normalized object (positions were carried over from the source). */
export function fieldAt(at: At, o: object, key: string | number): At {
  return child(at, o, key);
}
