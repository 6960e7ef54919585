// MeshConfig extensionProviders of kind envoyExtAuthzHttp / envoyExtAuthzGrpc (the external authorizers
// AuthorizationPolicy CUSTOM names), read once per mesh config with Istio's checks; every problem and
// every field Mizzen does not enforce becomes a warning line for the server log.
import { parseDuration } from '../../api/duration.js';
import { mapping } from '../yaml-mapping.js';

/** includeRequestBodyInCheck: how much of the body the check carries. */
export interface ExtAuthzBody {
  /** Bytes buffered at most (Envoy's max_request_bytes). */
  readonly maxRequestBytes: number;
  /** Send what arrived up to the limit instead of answering 413. */
  readonly allowPartialMessage: boolean;
  /** gRPC only: the body goes in raw_body (bytes) instead of body (UTF-8 string). */
  readonly packAsBytes: boolean;
}

/** One envoyExtAuthzHttp or envoyExtAuthzGrpc provider. */
export interface ExtAuthzProvider {
  readonly name: string;
  readonly kind: 'http' | 'grpc';
  /** `service` as written: a hostname or `namespace/hostname`. */
  readonly service: string;
  readonly port: number;
  /** Check timeout, ms (Istio's default 600 s). */
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  /** HTTP status on a check error (0 = Envoy's 403). */
  readonly statusOnError: number;
  /** HTTP: prefix of the check request path. */
  readonly pathPrefix: string;
  /** HTTP: request headers sent to the authorizer (besides Envoy's always-sent ones); `*` affixes allowed. */
  readonly includeRequestHeadersInCheck: readonly string[];
  /** HTTP: fixed headers added to the check request. */
  readonly includeAdditionalHeadersInCheck: Readonly<Record<string, string>>;
  readonly includeRequestBodyInCheck: ExtAuthzBody | null;
  readonly headersToUpstreamOnAllow: readonly string[];
  readonly headersToDownstreamOnDeny: readonly string[];
  readonly headersToDownstreamOnAllow: readonly string[];
  /** Why the provider cannot be used (Istio then denies what its policies match), or null. */
  readonly error: string | null;
}

/** The ext_authz providers of a mesh config and what about them has no effect. */
export interface MeshExtAuthz {
  readonly providers: ReadonlyMap<string, ExtAuthzProvider>;
  /** One line per problem or unenforced field. */
  readonly warnings: readonly string[];
}

export const NO_EXT_AUTHZ: MeshExtAuthz = Object.freeze({ providers: new Map(), warnings: [] });

/** Istio's default check timeout (600 s). */
const DEFAULT_TIMEOUT_MS = 600_000;

/** Fields Mizzen reads per provider kind; anything else set on the provider is warned about. */
const HTTP_FIELDS = new Set([
  'service',
  'port',
  'timeout',
  'pathPrefix',
  'failOpen',
  'statusOnError',
  'includeRequestHeadersInCheck',
  'includeHeadersInCheck',
  'includeAdditionalHeadersInCheck',
  'includeRequestBodyInCheck',
  'headersToUpstreamOnAllow',
  'headersToDownstreamOnDeny',
  'headersToDownstreamOnAllow',
]);
const GRPC_FIELDS = new Set([
  'service',
  'port',
  'timeout',
  'failOpen',
  'statusOnError',
  'includeRequestBodyInCheck',
]);

/** A duration of the mesh config (`10s`, `0.5s`, `200ms`) in ms; NaN when unreadable. */
function durationMs(v: unknown): number {
  return typeof v === 'string' ? (parseDuration(v.trim()) ?? NaN) : NaN;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function parseBody(raw: unknown): ExtAuthzBody | null {
  if (raw === undefined || raw === null) return null;
  const v = mapping(raw);
  const max = Number(v.maxRequestBytes ?? 0);
  return {
    maxRequestBytes: Number.isInteger(max) && max > 0 ? max : 0,
    allowPartialMessage: v.allowPartialMessage === true,
    packAsBytes: v.packAsBytes === true,
  };
}

function parseOne(
  name: string,
  kind: 'http' | 'grpc',
  p: Record<string, unknown>,
  warn: (m: string) => void,
): ExtAuthzProvider {
  const errors: string[] = [];
  const fields = kind === 'http' ? HTTP_FIELDS : GRPC_FIELDS;
  for (const k of Object.keys(p)) if (!fields.has(k)) warn(`${k} is not supported by Mizzen (ignored)`);
  const port = Number(p.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    errors.push(`port must be in the range [1, 65535], found: ${String(p.port)}`);
  const service = typeof p.service === 'string' ? p.service : '';
  if (service === '') errors.push('service must not be empty');
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (p.timeout !== undefined) {
    timeoutMs = durationMs(p.timeout);
    if (!(timeoutMs > 0)) errors.push(`invalid timeout ${JSON.stringify(p.timeout)}`);
  }
  let statusOnError = 0;
  if (p.statusOnError !== undefined && p.statusOnError !== '') {
    statusOnError = Number(p.statusOnError);
    if (!Number.isInteger(statusOnError) || statusOnError < 100 || statusOnError > 599)
      errors.push(`invalid statusOnError ${JSON.stringify(p.statusOnError)}`);
  }
  const pathPrefix = typeof p.pathPrefix === 'string' ? p.pathPrefix : '';
  if (pathPrefix !== '' && !pathPrefix.startsWith('/'))
    errors.push(`pathPrefix must begin with \`/\`, found: ${JSON.stringify(pathPrefix)}`);
  let include = strings(p.includeRequestHeadersInCheck);
  if (include.length === 0) include = strings(p.includeHeadersInCheck);
  const lists = {
    includeRequestHeadersInCheck: include,
    headersToUpstreamOnAllow: strings(p.headersToUpstreamOnAllow),
    headersToDownstreamOnDeny: strings(p.headersToDownstreamOnDeny),
    headersToDownstreamOnAllow: strings(p.headersToDownstreamOnAllow),
  };
  for (const [field, l] of Object.entries(lists))
    if (l.includes('*'))
      errors.push(
        `a single wildcard ("*") is not supported, change it to either prefix or suffix match: ${field}`,
      );
  const additional: Record<string, string> = {};
  const add = p.includeAdditionalHeadersInCheck;
  if (add && typeof add === 'object') for (const [k, v] of Object.entries(add)) additional[k] = String(v);
  const body = parseBody(p.includeRequestBodyInCheck);
  if (kind === 'http' && body?.packAsBytes)
    warn('includeRequestBodyInCheck.packAsBytes only applies to gRPC providers (ignored)');
  return {
    name,
    kind,
    service,
    port: Number.isInteger(port) ? port : 0,
    timeoutMs,
    failOpen: p.failOpen === true,
    statusOnError,
    pathPrefix,
    ...lists,
    includeAdditionalHeadersInCheck: additional,
    includeRequestBodyInCheck: body,
    error: errors.length > 0 ? errors.join('; ') : null,
  };
}

/** Reads the ext_authz providers of a parsed MeshConfig. */
export function meshExtAuthzOf(mesh: Record<string, unknown>): MeshExtAuthz {
  const list: unknown[] = Array.isArray(mesh.extensionProviders) ? mesh.extensionProviders : [];
  const providers = new Map<string, ExtAuthzProvider>();
  const warnings: string[] = [];
  for (const raw of list) {
    const p = mapping(raw);
    const kind =
      p.envoyExtAuthzHttp !== undefined ? 'http' : p.envoyExtAuthzGrpc !== undefined ? 'grpc' : null;
    if (kind === null) continue;
    const name = String(p.name ?? '');
    const warn = (m: string): void => {
      warnings.push(`MeshConfig extensionProviders ${name}: ${m}`);
    };
    const parsed = parseOne(
      name,
      kind,
      mapping(kind === 'http' ? p.envoyExtAuthzHttp : p.envoyExtAuthzGrpc),
      warn,
    );
    if (providers.has(name)) {
      warn('extension provider name must be unique; the first one is used');
      continue;
    }
    if (parsed.error) warn(`${parsed.error}; CUSTOM policies naming it deny the requests they match`);
    providers.set(name, parsed);
  }
  return { providers, warnings };
}
