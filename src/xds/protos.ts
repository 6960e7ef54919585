// Loads the Envoy v3 protos (shipped in @grpc/grpc-js-xds) with protobufjs and converts resources
// between canonical form (see CANONICAL_OPTIONS) and google.protobuf.Any wire bytes.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import type { IConversionOptions, Root, Type } from 'protobufjs';
import { assertValidMessage, InvalidResourceError } from './canonical-check.js';
import { typeNameOf, TYPE_URL_PREFIX } from './type-urls.js';

export { InvalidResourceError } from './canonical-check.js';

/** A resource or message in canonical form (see {@link CANONICAL_OPTIONS}). */
export type CanonicalObject = Record<string, unknown>;

/**
 * A `google.protobuf.Any` on the wire, as @grpc/proto-loader and protobufjs hand it over:
 * the type URL and the serialized message.
 */
export interface AnyMessage {
  /** `type.googleapis.com/<full message name>` */
  type_url: string;
  /** The serialized message. */
  value: Uint8Array;
}

/**
 * protobufjs conversion options that define canonical form: camelCase fields, enums as names, 64-bit
 * integers as numbers, Any expanded to `{ '@type': url, ...fields }`, fields left at their default
 * omitted, Duration as `{ seconds?, nanos? }`, wrappers as `{ value }`, Struct as
 * `{ fields: { key: { stringValue | numberValue | boolValue | nullValue | structValue | listValue } } }`.
 * Field names are protobufjs' camelCase, which leaves `_<digit>` alone (`consecutive_5xx`).
 * bytes fields are Uint8Arrays (Buffers); an Any of a type not loaded here stays `{ type_url, value: bytes }`.
 */
export const CANONICAL_OPTIONS: IConversionOptions = Object.freeze({
  json: true,
  enums: String,
  longs: Number,
  defaults: false,
});

/** The proto files loaded (and everything they import). */
const PROTO_FILES = [
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/buffer/v3/buffer.proto',
  'envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/ext_authz/v3/ext_authz.proto',
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/extensions/request_id/uuid/v3/uuid.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
];

let cachedRoot: Root | null = null;
const typeCache = new Map<string, Type>();

/**
 * The include directories of the Envoy proto tree inside @grpc/grpc-js-xds (envoy-api, xds,
 * googleapis, protoc-gen-validate), for @grpc/proto-loader's `includeDirs`.
 */
export function envoyProtoDirs(): string[] {
  const require = createRequire(import.meta.url);
  const base = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const dirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(base, 'deps', d));
  // google/protobuf/descriptor.proto (imported by validate.proto) ships with protobufjs.
  dirs.push(dirname(require.resolve('protobufjs/package.json')));
  return dirs;
}

/**
 * The protobufjs Root holding every loaded Envoy type; loaded on first use, then cached. It comes from
 * the descriptor `npm run build` writes next to this module ({@link envoyDescriptorJson}): the same
 * types as parsing the .proto files, without keeping their source text (about 5 MiB of strings that
 * parsed names and comments point into) and without the parse. When the descriptor is missing or was
 * built from another list of files, the .proto files are parsed.
 */
export function envoyRoot(): Root {
  if (cachedRoot) return cachedRoot;
  cachedRoot = loadEnvoyDescriptor() ?? parseEnvoyProtos();
  return cachedRoot;
}

/** Where `npm run build` writes the descriptor (beside the compiled protos.js). */
export const ENVOY_DESCRIPTOR_URL = new URL('./envoy-descriptor.json', import.meta.url);

interface EnvoyDescriptor {
  files: string[];
  root: protobuf.INamespace;
}

function loadEnvoyDescriptor(): Root | null {
  let text: string;
  try {
    text = readFileSync(ENVOY_DESCRIPTOR_URL, 'utf8');
  } catch {
    return null;
  }
  const d = JSON.parse(text) as EnvoyDescriptor;
  if (d.files.length !== PROTO_FILES.length || d.files.some((f, i) => f !== PROTO_FILES[i])) return null;
  const root = protobuf.Root.fromJSON(d.root);
  root.resolveAll();
  return root;
}

/** Parses the Envoy .proto files of @grpc/grpc-js-xds (and everything they import) into a new Root. */
export function parseEnvoyProtos(): Root {
  const dirs = envoyProtoDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(PROTO_FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

/** The descriptor {@link envoyRoot} loads: the parsed protos as protobufjs JSON, without comments. */
export function envoyDescriptorJson(): string {
  const descriptor: EnvoyDescriptor = { files: PROTO_FILES, root: parseEnvoyProtos().toJSON() };
  return JSON.stringify(descriptor);
}

/** The message type with this fully qualified name (no leading dot), or null when not loaded. */
export function findType(fullName: string): Type | null {
  const hit = typeCache.get(fullName);
  if (hit) return hit;
  const found = envoyRoot().lookup(fullName);
  if (!(found instanceof protobuf.Type)) return null;
  typeCache.set(fullName, found);
  return found;
}

/** The message type with this fully qualified name; throws when it is not among the loaded protos. */
export function lookupType(fullName: string): Type {
  const type = findType(fullName);
  if (!type) throw new Error(`unknown protobuf type ${fullName} (not among the loaded Envoy protos)`);
  return type;
}

/**
 * Checks `obj` against the message type and serializes it. Throws {@link InvalidResourceError}
 * naming the offending field (unknown field, wrong value type, unknown enum value, unknown Any type,
 * two members of one oneof).
 */
export function encodeMessage(typeName: string, obj: unknown): Uint8Array {
  const type = lookupType(typeName);
  assertValidMessage(type, obj, shortName(typeName));
  return type.encode(type.fromObject(obj as CanonicalObject)).finish();
}

/** Parses serialized bytes of the message type into canonical form. Throws on malformed bytes. */
export function decodeMessage(typeName: string, bytes: Uint8Array): CanonicalObject {
  const type = lookupType(typeName);
  try {
    return type.toObject(type.decode(bytes), CANONICAL_OPTIONS);
  } catch (err) {
    throw new Error(`cannot decode ${typeName}: ${(err as Error).message}`);
  }
}

/**
 * Wraps a canonical resource into a `google.protobuf.Any` of `typeUrl`. A `'@type'` key in `obj`, if
 * present, must equal `typeUrl`. Throws {@link InvalidResourceError} on invalid input.
 */
export function encodeResource(typeUrl: string, obj: CanonicalObject): AnyMessage {
  const at = obj['@type'];
  if (at !== undefined && at !== typeUrl) {
    throw new InvalidResourceError(
      shortName(typeNameOf(typeUrl)),
      `'@type' is ${String(at)}, expected ${typeUrl}`,
    );
  }
  let body = obj;
  if (at !== undefined) {
    body = { ...obj };
    delete body['@type'];
  }
  return { type_url: typeUrl, value: encodeMessage(typeNameOf(typeUrl), body) };
}

/**
 * Decodes a `google.protobuf.Any` (snake_case `type_url` or camelCase `typeUrl`) into the canonical
 * form of its message, without a `'@type'` key. Throws on unknown types and malformed bytes.
 */
export function decodeResource(any: AnyMessage | { typeUrl: string; value: Uint8Array }): CanonicalObject {
  const typeUrl = 'type_url' in any ? any.type_url : any.typeUrl;
  return decodeMessage(typeNameOf(typeUrl), any.value);
}

/**
 * Normalizes an object that protobufjs' `fromObject` accepts (enum numbers, 64-bit integers as
 * strings, bytes as Buffers, Any with '@type') into canonical form. Throws {@link InvalidResourceError}.
 */
export function toCanonical(typeName: string, obj: unknown): CanonicalObject {
  return decodeMessage(typeName, encodeMessage(typeName, obj));
}

/** The type URL of a fully qualified message name. */
export function typeUrlOf(typeName: string): string {
  return TYPE_URL_PREFIX + typeName;
}

/** The name of a resource: `name`, or `clusterName` for a ClusterLoadAssignment; '' when absent. */
export function resourceName(resource: CanonicalObject): string {
  const name = resource.name ?? resource.clusterName;
  return typeof name === 'string' ? name : '';
}

function shortName(typeName: string): string {
  return typeName.slice(typeName.lastIndexOf('.') + 1);
}
