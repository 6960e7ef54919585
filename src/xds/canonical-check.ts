// Checks a canonical-form object against its protobufjs message type before encoding, because
// protobufjs' fromObject silently drops unknown fields, unknown enum names and unknown Any types.
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';

/** A resource that does not fit its Envoy message type; `path` names the field (e.g. `Listener.filterChains[0].name`). */
export class InvalidResourceError extends Error {
  /** Field path from the resource's message name, as written in the input. */
  readonly path: string;
  /** What is wrong, without the path. */
  readonly problem: string;
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'InvalidResourceError';
    this.path = path;
    this.problem = problem;
  }
}

const ANY = '.google.protobuf.Any';
const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);

/** Throws {@link InvalidResourceError} unless `obj` is a valid (canonical or fromObject-style) `type`. */
export function assertValidMessage(type: Type, obj: unknown, path: string): void {
  if (!isPlainObject(obj))
    throw new InvalidResourceError(path, `expected an object (${type.name}), got ${describe(obj)}`);
  if (type.fullName === ANY) return checkAny(type, obj, path);
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const field = type.fields[key];
    if (!field) throw new InvalidResourceError(`${path}.${key}`, unknownFieldProblem(type, key));
    if (value === null || value === undefined) continue;
    checkField(field, value, `${path}.${key}`);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => obj[name] !== undefined && obj[name] !== null);
    if (set.length > 1) {
      throw new InvalidResourceError(
        path,
        `fields ${set.join(' and ')} are both set but belong to oneof ${oneof.name}`,
      );
    }
  }
}

function checkAny(anyType: Type, obj: Record<string, unknown>, path: string): void {
  const url = obj['@type'];
  if (url === undefined) {
    for (const key of Object.keys(obj)) {
      if (key !== 'type_url' && key !== 'value')
        throw new InvalidResourceError(`${path}.${key}`, unknownFieldProblem(anyType, key));
    }
    if (typeof obj.type_url !== 'string')
      throw new InvalidResourceError(path, `an Any needs '@type' (or type_url and value)`);
    if (obj.value !== undefined) checkScalar('bytes', obj.value, `${path}.value`);
    return;
  }
  if (typeof url !== 'string')
    throw new InvalidResourceError(`${path}['@type']`, `expected a type URL string, got ${describe(url)}`);
  const name = url.slice(url.lastIndexOf('/') + 1);
  const inner = anyType.root.lookup(name);
  if (!(inner instanceof protobuf.Type)) {
    throw new InvalidResourceError(
      `${path}['@type']`,
      `unknown type ${url} (not among the loaded Envoy protos)`,
    );
  }
  const rest = { ...obj };
  delete rest['@type'];
  assertValidMessage(inner, rest, path);
}

function checkField(field: Field, value: unknown, path: string): void {
  if (field.map) {
    if (!isPlainObject(value))
      throw new InvalidResourceError(path, `expected a map object, got ${describe(value)}`);
    for (const [key, v] of Object.entries(value)) checkSingle(field, v, `${path}[${JSON.stringify(key)}]`);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value))
      throw new InvalidResourceError(path, `expected a list, got ${describe(value)}`);
    value.forEach((v, i) => checkSingle(field, v, `${path}[${i}]`));
    return;
  }
  checkSingle(field, value, path);
}

function checkSingle(field: Field, value: unknown, path: string): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return assertValidMessage(resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'number' && Number.isInteger(value)) return;
    if (typeof value === 'string' && value in resolved.values) return;
    const names = Object.keys(resolved.values).join(', ');
    throw new InvalidResourceError(
      path,
      `expected one of ${names} (${resolved.name}), got ${describe(value)}`,
    );
  }
  checkScalar(field.type, value, path);
}

/** Throws {@link InvalidResourceError} unless `value` fits the protobuf scalar `kind` (e.g. 'uint32'). */
export function checkScalar(kind: string, value: unknown, path: string): void {
  const bad = (want: string): never => {
    throw new InvalidResourceError(path, `expected ${want}, got ${describe(value)}`);
  };
  if (kind === 'string') return void (typeof value === 'string' || bad('a string'));
  if (kind === 'bool') return void (typeof value === 'boolean' || bad('true or false'));
  if (kind === 'bytes')
    return void (typeof value === 'string' || value instanceof Uint8Array || bad('base64 bytes'));
  if (kind === 'double' || kind === 'float') {
    return void (
      typeof value === 'number' ||
      ['NaN', 'Infinity', '-Infinity'].includes(value as string) ||
      bad('a number')
    );
  }
  if (INT32.has(kind)) return void (isIntIn(value, -(2 ** 31), 2 ** 31 - 1) || bad(`an integer (${kind})`));
  if (UINT32.has(kind))
    return void (isIntIn(value, 0, 2 ** 32 - 1) || bad(`a non-negative integer (${kind})`));
  if (INT64.has(kind)) return void (isInt64(value, false) || bad(`an integer (${kind})`));
  if (UINT64.has(kind)) return void (isInt64(value, true) || bad(`a non-negative integer (${kind})`));
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isInt64(value: unknown, unsigned: boolean): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && (!unsigned || value >= 0);
  if (typeof value === 'string') return (unsigned ? /^\d+$/ : /^-?\d+$/).test(value);
  return typeof value === 'object' && value !== null && 'low' in value && 'high' in value; // a Long
}

function unknownFieldProblem(type: Type, key: string): string {
  const near = fieldByLooseName(type, key);
  const hint = near ? ` (did you mean ${near.name}?)` : '';
  return `unknown field ${JSON.stringify(key)} in ${type.fullName.slice(1)}${hint}`;
}

const looseNames = new WeakMap<Type, Map<string, Field>>();

/**
 * The field whose name matches `key` ignoring case and underscores (`connect_timeout` →
 * connectTimeout, `consecutive5xx` → consecutive_5xx, which protobufjs leaves as is), or null.
 */
export function fieldByLooseName(type: Type, key: string): Field | null {
  let names = looseNames.get(type);
  if (!names) {
    names = new Map(type.fieldsArray.map((f) => [loose(f.name), f]));
    looseNames.set(type, names);
  }
  return names.get(loose(key)) ?? null;
}

function loose(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? text.slice(0, 37) + '...' : text}`;
}
