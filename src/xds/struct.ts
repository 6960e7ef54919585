// Converts between plain JSON values and google.protobuf.Struct/Value in canonical form
// (node metadata, filter metadata), which protobufjs renders as `{ fields: { k: { stringValue } } }`.
import type { google_protobuf_Struct as Struct, google_protobuf_Value as Value } from './envoy-types.js';

/** A google.protobuf.Struct in canonical form. */
export interface CanonicalStruct {
  /** Field name → Value; absent when the Struct is empty. */
  fields?: Record<string, CanonicalValue>;
}

/** A google.protobuf.Value in canonical form: exactly one member set (none for a default Value). */
export interface CanonicalValue {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: CanonicalStruct;
  listValue?: { values?: CanonicalValue[] };
}

/** A JSON object as a canonical Struct. Values that are not JSON (undefined, functions) are dropped. */
export function structFromJson(obj: Record<string, unknown>): Struct {
  const fields: Record<string, Value> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || typeof value === 'function') continue;
    fields[key] = valueFromJson(value);
  }
  // protobufjs omits an empty map, so an empty Struct is {} in canonical form.
  return Object.keys(fields).length > 0 ? { fields } : {};
}

/** A JSON value as a canonical Value. */
export function valueFromJson(value: unknown): Value {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'bigint') return { numberValue: Number(value) };
  if (Array.isArray(value))
    return { listValue: value.length > 0 ? { values: value.map(valueFromJson) } : {} };
  if (typeof value === 'object') return { structValue: structFromJson(value as Record<string, unknown>) };
  return { stringValue: String(value) };
}

/** A canonical Struct (or undefined) as a plain JSON object. */
export function structToJson(struct: CanonicalStruct | undefined | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!struct?.fields) return out;
  for (const [key, value] of Object.entries(struct.fields)) out[key] = valueToJson(value);
  return out;
}

/** A canonical Value as a plain JSON value (a Value with no member set is null). */
export function valueToJson(value: CanonicalValue | undefined | null): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return value.numberValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.structValue !== undefined) return structToJson(value.structValue);
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(valueToJson);
  return null;
}
