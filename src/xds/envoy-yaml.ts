// Converts Envoy's own config style (proto3 JSON mapping: snake_case or camelCase keys, "1.5s"
// durations, plain values for wrappers and Struct, `typed_config` with '@type') into canonical form,
// walking the protobufjs field types so map keys and Struct contents are never renamed.
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { checkScalar, fieldByLooseName, InvalidResourceError } from './canonical-check.js';
import type { CanonicalObject } from './protos.js';
import { findType, lookupType } from './protos.js';
import { parseJsonDuration } from './duration.js';
import { structFromJson, valueFromJson } from './struct.js';

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (k) => `google.protobuf.${k}Value`,
  ),
);
const INTEGER_KINDS = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32']);
const LONG_KINDS = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

/**
 * Converts an Envoy-style config object (as parsed from an Envoy YAML/JSON file) of message type
 * `typeName` (default: a whole bootstrap) into canonical form. Throws {@link InvalidResourceError}
 * with the path as written in the input (e.g. `Bootstrap.static_resources.clusters[0].connect_timeout`).
 */
export function fromEnvoyYaml(
  obj: unknown,
  typeName = 'envoy.config.bootstrap.v3.Bootstrap',
): CanonicalObject {
  const type = lookupType(typeName);
  return convertMessage(type, obj, type.name) as CanonicalObject;
}

function convertMessage(type: Type, value: unknown, path: string): unknown {
  const name = type.fullName.slice(1);
  const special = convertWellKnown(name, value, path);
  if (special !== undefined) return special;
  if (!isPlainObject(value))
    throw new InvalidResourceError(path, `expected an object (${type.name}), got ${describe(value)}`);
  if (name === 'google.protobuf.Any') return convertAny(value, path);
  const out: CanonicalObject = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? fieldByLooseName(type, key);
    if (!field) throw new InvalidResourceError(`${path}.${key}`, `unknown field in ${name}`);
    if (v === null || v === undefined) continue;
    out[field.name] = convertField(field, v, `${path}.${key}`);
  }
  return out;
}

function convertField(field: Field, value: unknown, path: string): unknown {
  if (field.map) {
    if (!isPlainObject(value))
      throw new InvalidResourceError(path, `expected a map object, got ${describe(value)}`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = convertSingle(field, v, `${path}.${k}`);
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value))
      throw new InvalidResourceError(path, `expected a list, got ${describe(value)}`);
    return value.map((v, i) => convertSingle(field, v, `${path}[${i}]`));
  }
  return convertSingle(field, value, path);
}

function convertSingle(field: Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return convertMessage(resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && value in resolved.values) return value;
    if (typeof value === 'number' && resolved.valuesById[value] !== undefined)
      return resolved.valuesById[value];
    throw new InvalidResourceError(
      path,
      `expected one of ${Object.keys(resolved.values).join(', ')}, got ${describe(value)}`,
    );
  }
  return convertScalar(field.type, value, path);
}

function convertScalar(kind: string, value: unknown, path: string): unknown {
  let out = value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    // proto3 JSON allows integers as strings; canonical form holds numbers.
    if (INTEGER_KINDS.has(kind) || (LONG_KINDS.has(kind) && Number.isSafeInteger(Number(value))))
      out = Number(value);
  }
  if (
    (kind === 'double' || kind === 'float') &&
    typeof value === 'string' &&
    /^-?[\d.]+(e[+-]?\d+)?$/i.test(value)
  ) {
    out = Number(value);
  }
  checkScalar(kind, out, path);
  // proto3 JSON writes bytes as base64; canonical form holds them as Buffers.
  if (kind === 'bytes' && typeof out === 'string') return Buffer.from(out, 'base64');
  return out;
}

function convertAny(value: Record<string, unknown>, path: string): CanonicalObject {
  const url = value['@type'];
  if (typeof url !== 'string') throw new InvalidResourceError(path, `a typed_config/Any needs '@type'`);
  const inner = findType(url.slice(url.lastIndexOf('/') + 1));
  if (!inner)
    throw new InvalidResourceError(
      `${path}['@type']`,
      `unknown type ${url} (not among the loaded Envoy protos)`,
    );
  const rest: Record<string, unknown> = { ...value };
  delete rest['@type'];
  const innerName = inner.fullName.slice(1);
  // proto3 JSON puts well-known types with a special JSON form under "value".
  const body = isWellKnownJson(innerName)
    ? convertMessage(inner, rest.value, `${path}.value`)
    : convertMessage(inner, rest, path);
  return { '@type': url, ...(body as CanonicalObject) };
}

function isWellKnownJson(name: string): boolean {
  return (
    WRAPPERS.has(name) ||
    ['Duration', 'Timestamp', 'Struct', 'Value', 'ListValue', 'FieldMask'].some(
      (k) => name === `google.protobuf.${k}`,
    )
  );
}

/** Converts a well-known type's JSON form; undefined when `name` is not one or `value` is already canonical. */
function convertWellKnown(name: string, value: unknown, path: string): unknown {
  if (WRAPPERS.has(name)) {
    if (isPlainObject(value)) return undefined;
    return { value: convertScalar(wrapperKind(name), value, `${path}`) };
  }
  switch (name) {
    case 'google.protobuf.Duration':
      return typeof value === 'string' ? parseDuration(value, path) : undefined;
    case 'google.protobuf.Timestamp':
      return typeof value === 'string' ? parseTimestamp(value, path) : undefined;
    case 'google.protobuf.Struct':
      if (!isPlainObject(value))
        throw new InvalidResourceError(path, `expected an object, got ${describe(value)}`);
      return structFromJson(value);
    case 'google.protobuf.Value':
      return valueFromJson(value);
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value))
        throw new InvalidResourceError(path, `expected a list, got ${describe(value)}`);
      return value.length > 0 ? { values: value.map(valueFromJson) } : {};
    case 'google.protobuf.FieldMask':
      return typeof value === 'string' ? { paths: value.split(',').filter((p) => p !== '') } : undefined;
    default:
      return undefined;
  }
}

function wrapperKind(name: string): string {
  const kind = name.slice('google.protobuf.'.length, -'Value'.length).toLowerCase();
  return kind === 'boolean' ? 'bool' : kind;
}

/** Parses a proto3 JSON duration ("1.5s", "-0.25s", "10s") into canonical `{ seconds, nanos }`. */
export function parseDuration(text: string, path = 'duration'): { seconds?: number; nanos?: number } {
  const d = parseJsonDuration(text);
  if (!d)
    throw new InvalidResourceError(path, `expected a duration like "1.5s", got ${JSON.stringify(text)}`);
  return d;
}

function parseTimestamp(text: string, path: string): { seconds?: number; nanos?: number } {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new InvalidResourceError(path, `expected an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  const frac = /\.(\d{1,9})/.exec(text);
  const seconds = Math.floor(ms / 1000);
  const nanos = frac ? Number(frac[1].padEnd(9, '0')) : 0;
  return { ...(seconds !== 0 && { seconds }), ...(nanos !== 0 && { nanos }) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
