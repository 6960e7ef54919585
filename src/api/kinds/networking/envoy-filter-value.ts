// EnvoyFilter patch values checked as the Envoy message their applyTo patches (proto3 JSON, snake_case
// or camelCase names), as Istio's validation decodes them.
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { findType } from '../../../xds/protos.js';
import { fieldByLooseName } from '../../../xds/canonical-check.js';

/** The Envoy message a patch value of each applyTo is. */
export const PATCH_VALUE_TYPES: Readonly<Record<string, string>> = {
  LISTENER: 'envoy.config.listener.v3.Listener',
  FILTER_CHAIN: 'envoy.config.listener.v3.FilterChain',
  NETWORK_FILTER: 'envoy.config.listener.v3.Filter',
  HTTP_FILTER: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  ROUTE_CONFIGURATION: 'envoy.config.route.v3.RouteConfiguration',
  VIRTUAL_HOST: 'envoy.config.route.v3.VirtualHost',
  HTTP_ROUTE: 'envoy.config.route.v3.Route',
  CLUSTER: 'envoy.config.cluster.v3.Cluster',
  EXTENSION_CONFIG: 'envoy.config.core.v3.TypedExtensionConfig',
  BOOTSTRAP: 'envoy.config.bootstrap.v3.Bootstrap',
  LISTENER_FILTER: 'envoy.config.listener.v3.ListenerFilter',
};

/** One problem in a value: `path` is relative to the value (`.filters[0].name`, '' for the value itself). */
export interface ValueProblem {
  readonly path: string;
  readonly message: string;
  /**
   * Errors: the value is not that message. Warnings: a part Istio drops (an unknown field) or Mizzen
   * cannot check (an Any type it has no proto for).
   */
  readonly severity: 'error' | 'warning';
}

const MAX_DEPTH = 64;
const INTS = new Set([
  'int32',
  'sint32',
  'sfixed32',
  'uint32',
  'fixed32',
  'int64',
  'sint64',
  'sfixed64',
  'uint64',
  'fixed64',
]);
const WRAPPERS: Record<string, string> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** Problems of `value` as the message `applyTo` patches; [] when it decodes (or applyTo is unknown). */
export function patchValueProblems(applyTo: string, value: unknown): ValueProblem[] {
  const typeName = PATCH_VALUE_TYPES[applyTo];
  const type = typeName ? findType(typeName) : null;
  if (!type) return [];
  const out: ValueProblem[] = [];
  checkMessage(type, value, '', out, 0);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'an object';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

function checkMessage(type: Type, v: unknown, path: string, out: ValueProblem[], depth: number): void {
  const err = (message: string, at = path): void => void out.push({ path: at, message, severity: 'error' });
  if (depth > MAX_DEPTH) return err(`nests deeper than ${MAX_DEPTH} levels`);
  const wkt = type.fullName;
  if (wkt in WRAPPERS) return checkScalar(WRAPPERS[wkt], v, path, out);
  switch (wkt) {
    case '.google.protobuf.Duration':
      if (typeof v !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(v))
        err(`must be a duration such as "5s" or "0.25s", got ${describe(v)}`);
      return;
    case '.google.protobuf.Timestamp':
    case '.google.protobuf.FieldMask':
      if (typeof v !== 'string') err(`must be a string, got ${describe(v)}`);
      return;
    case '.google.protobuf.Value':
      return;
    case '.google.protobuf.Struct':
      if (!isObject(v)) err(`must be an object, got ${describe(v)}`);
      return;
    case '.google.protobuf.ListValue':
      if (!Array.isArray(v)) err(`must be a list, got ${describe(v)}`);
      return;
    case '.google.protobuf.Any':
      return checkAny(type, v, path, out, depth);
  }
  if (!isObject(v)) return err(`must be an object (${type.name}), got ${describe(v)}`);
  const setOneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(v)) {
    const field = fieldByLooseName(type, key);
    const at = `${path}.${key}`;
    if (!field) {
      // Istio decodes patch values leniently: it drops unknown fields and only warns.
      out.push({
        path: at,
        message: `unknown field "${key}" in ${type.name}: Istio drops it, so it has no effect (check the spelling)`,
        severity: 'warning',
      });
      continue;
    }
    if (value === null) continue;
    if (field.partOf) {
      const other = setOneofs.get(field.partOf.name);
      if (other) err(`${other} and ${key} are both set but belong to one oneof (${field.partOf.name})`, at);
      setOneofs.set(field.partOf.name, key);
    }
    checkField(field, value, at, out, depth);
  }
}

function checkAny(anyType: Type, v: unknown, path: string, out: ValueProblem[], depth: number): void {
  if (!isObject(v) || typeof v['@type'] !== 'string') {
    out.push({ path, message: `an Any needs "@type", got ${describe(v)}`, severity: 'error' });
    return;
  }
  const url = v['@type'];
  const inner = anyType.root.lookup(url.slice(url.lastIndexOf('/') + 1));
  if (!(inner instanceof protobuf.Type) && /\.v2(alpha)?\./.test(url)) {
    out.push({
      path: `${path}["@type"]`,
      message: `${url} is an xDS v2 type, which Envoy no longer has; use the v3 API (e.g. envoy.extensions.filters.http.<name>.v3)`,
      severity: 'error',
    });
    return;
  }
  if (!(inner instanceof protobuf.Type)) {
    out.push({
      path: `${path}["@type"]`,
      message: `type ${url} is not among the Envoy protos Mizzen loads, so it is not checked`,
      severity: 'warning',
    });
    return;
  }
  const rest: Record<string, unknown> = { ...v };
  delete rest['@type'];
  // Well-known types inside an Any carry their JSON form in "value".
  const body = inner.fullName.startsWith('.google.protobuf.') && 'value' in rest ? rest.value : rest;
  checkMessage(inner, body, path, out, depth + 1);
}

function checkField(field: Field, v: unknown, path: string, out: ValueProblem[], depth: number): void {
  if (field.map) {
    if (!isObject(v))
      return void out.push({ path, message: `must be a map object, got ${describe(v)}`, severity: 'error' });
    for (const [k, item] of Object.entries(v))
      checkSingle(field, item, `${path}[${JSON.stringify(k)}]`, out, depth);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(v))
      return void out.push({ path, message: `must be a list, got ${describe(v)}`, severity: 'error' });
    v.forEach((item, i) => checkSingle(field, item, `${path}[${i}]`, out, depth));
    return;
  }
  checkSingle(field, v, path, out, depth);
}

function checkSingle(field: Field, v: unknown, path: string, out: ValueProblem[], depth: number): void {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return checkMessage(t, v, path, out, depth + 1);
  if (t instanceof protobuf.Enum) {
    if ((typeof v === 'string' && v in t.values) || (typeof v === 'number' && Number.isInteger(v))) return;
    out.push({
      path,
      message: `must be one of ${Object.keys(t.values).join(', ')}, got ${describe(v)}`,
      severity: 'error',
    });
    return;
  }
  checkScalar(field.type, v, path, out);
}

function checkScalar(kind: string, v: unknown, path: string, out: ValueProblem[]): void {
  let ok: boolean;
  if (INTS.has(kind))
    ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
  else if (kind === 'double' || kind === 'float')
    ok =
      typeof v === 'number' ||
      (typeof v === 'string' && /^(-?Infinity|NaN|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(v));
  else if (kind === 'bool') ok = typeof v === 'boolean';
  else ok = typeof v === 'string';
  if (!ok)
    out.push({
      path,
      message: `must be ${kind === 'bool' ? 'true or false' : `a ${kind}`}, got ${describe(v)}`,
      severity: 'error',
    });
}
