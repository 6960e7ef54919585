// A compiled envoy.extensions.filters.http.ext_authz.v3.ExtAuthz: which service checks (HTTP or gRPC,
// by cluster), what the check carries (headers, body), what the answer may set, failure handling, and
// the filter_enabled_metadata gate Istio uses so that only requests a CUSTOM rule matched are checked.
import { envoyRoot } from '../../../../xds/protos.js';
import { StringMatcher } from '../../../matchers/string-matcher.js';
import { MetadataMatcher } from '../../../rbac/value-matcher.js';
import { durationMs } from '../../../util/values.js';
import type {
  envoy_extensions_filters_http_ext_authz_v3_ExtAuthz as ExtAuthz,
  envoy_type_matcher_v3_ListStringMatcher as ListStringMatcher,
  envoy_type_v3_HttpStatus as HttpStatus,
} from '../../../../xds/envoy-types.js';

/** Envoy's default check timeout for a gRPC service (200 ms); HTTP services carry theirs in server_uri. */
const DEFAULT_GRPC_TIMEOUT_MS = 200;

/** A list of header-name matchers (ListStringMatcher); null when the list is not set. */
export class HeaderList {
  private readonly matchers: readonly StringMatcher[];
  constructor(l: ListStringMatcher | undefined) {
    this.matchers = (l?.patterns ?? []).map((p) => new StringMatcher(p));
  }
  matches(name: string): boolean {
    return this.matchers.some((m) => m.match(name));
  }
}

function headerList(l: ListStringMatcher | undefined): HeaderList | null {
  return l ? new HeaderList(l) : null;
}

/** Envoy's StatusCode enum name (canonical form) or number → HTTP status; `def` when unset. */
export function httpStatusOf(s: HttpStatus | undefined, def: number): number {
  // A number when the message was not decoded to canonical form.
  const code = s?.code as string | number | null | undefined;
  if (code === undefined || code === null || code === 0 || code === 'Empty') return def;
  if (typeof code === 'number') return code;
  const n = envoyRoot().lookupEnum('envoy.type.v3.StatusCode').values[String(code)];
  return n === undefined || n === 0 ? def : n;
}

/** with_request_body. */
export interface BodySettings {
  readonly maxRequestBytes: number;
  readonly allowPartialMessage: boolean;
  readonly packAsBytes: boolean;
}

/** Fields of ExtAuthz this proxy does not implement: config that sets them is refused. */
const UNSUPPORTED = [
  'filterEnabled',
  'denyAtDisable',
  'metadataContextNamespaces',
  'typedMetadataContextNamespaces',
  'routeMetadataContextNamespaces',
  'routeTypedMetadataContextNamespaces',
  'includePeerCertificate',
  'includeTlsSession',
  'clearRouteCache',
  'disallowedHeaders',
  'decoderHeaderMutationRules',
  'validateMutations',
  'fieldsToSend',
];

/** The compiled filter config. Immutable. */
export class ExtAuthzConfig {
  readonly kind: 'http' | 'grpc';
  readonly cluster: string;
  /** gRPC: :authority of the check call; HTTP: the host of server_uri.uri. */
  readonly authority: string;
  readonly timeoutMs: number;
  /** HTTP: prefix of the check request's path. */
  readonly pathPrefix: string;
  readonly failureModeAllow: boolean;
  /** Status of a failed check when not failing open (Envoy's default 403). */
  readonly statusOnError: number;
  /** Request headers sent to the authorizer (null: HTTP sends its defaults only, gRPC sends all). */
  readonly allowedHeaders: HeaderList | null;
  /** HTTP: fixed headers added to every check request. */
  readonly headersToAdd: readonly [string, string][];
  /** HTTP: authorizer response headers set on the upstream request on allow (null: none). */
  readonly allowedUpstreamHeaders: HeaderList | null;
  /** HTTP: authorizer response headers sent to the client on deny (null: all but a few). */
  readonly allowedClientHeaders: HeaderList | null;
  /** HTTP: authorizer response headers added to the client's response on allow (null: none). */
  readonly allowedClientHeadersOnSuccess: HeaderList | null;
  readonly withRequestBody: BodySettings | null;
  /** Only requests whose dynamic metadata match are checked (Istio's CUSTOM rule gate); null = all. */
  readonly enabledMetadata: MetadataMatcher | null;
  readonly statPrefix: string;

  constructor(c: ExtAuthz | undefined) {
    // By name: fieldsToSend is newer than the protos the types come from.
    const fields = (c ?? {}) as Record<string, unknown>;
    for (const f of UNSUPPORTED)
      if (fields[f] !== undefined) throw new Error(`${f} is not supported by this proxy`);
    const http = c?.httpService;
    const grpc = c?.grpcService;
    if ((http ? 1 : 0) + (grpc ? 1 : 0) !== 1)
      throw new Error('exactly one of http_service, grpc_service is required');
    if (grpc) {
      this.kind = 'grpc';
      if (grpc.googleGrpc) throw new Error('grpc_service.google_grpc is not supported; use envoy_grpc');
      this.cluster = String(grpc.envoyGrpc?.clusterName ?? '');
      this.authority = String(grpc.envoyGrpc?.authority ?? '') || this.cluster;
      this.timeoutMs = durationMs(grpc.timeout, DEFAULT_GRPC_TIMEOUT_MS);
      this.pathPrefix = '';
      if (grpc.initialMetadata?.length) throw new Error('grpc_service.initial_metadata is not supported');
    } else {
      this.kind = 'http';
      const uri = http!.serverUri ?? {};
      this.cluster = String(uri.cluster ?? '');
      let authority = '';
      try {
        authority = new URL(String(uri.uri ?? '')).host;
      } catch {
        authority = this.cluster;
      }
      this.authority = authority;
      this.timeoutMs = durationMs(uri.timeout, DEFAULT_GRPC_TIMEOUT_MS);
      this.pathPrefix = String(http!.pathPrefix ?? '');
      if (
        http!.authorizationRequest?.allowedHeaders ||
        http!.authorizationResponse?.allowedUpstreamHeadersToAppend
      )
        throw new Error(
          'authorization_request.allowed_headers / allowed_upstream_headers_to_append are not supported',
        );
      // retry_policy is newer than the protos the types come from: checked by name.
      if ((http as Record<string, unknown>).retryPolicy)
        throw new Error('http_service.retry_policy is not supported');
    }
    if (this.cluster === '') throw new Error('the check service needs a cluster');
    const req = http?.authorizationRequest;
    const res = http?.authorizationResponse;
    this.headersToAdd = (req?.headersToAdd ?? []).map((h) => [
      String(h.key ?? '').toLowerCase(),
      String(h.value ?? ''),
    ]);
    this.allowedHeaders = headerList(c?.allowedHeaders);
    this.allowedUpstreamHeaders = headerList(res?.allowedUpstreamHeaders);
    this.allowedClientHeaders = headerList(res?.allowedClientHeaders);
    this.allowedClientHeadersOnSuccess = headerList(res?.allowedClientHeadersOnSuccess);
    this.failureModeAllow = c?.failureModeAllow === true;
    this.statusOnError = httpStatusOf(c?.statusOnError, 403);
    const b = c?.withRequestBody;
    this.withRequestBody = b
      ? {
          maxRequestBytes: Number(b.maxRequestBytes ?? 0) || 0,
          allowPartialMessage: b.allowPartialMessage === true,
          packAsBytes: b.packAsBytes === true,
        }
      : null;
    this.enabledMetadata = c?.filterEnabledMetadata ? new MetadataMatcher(c.filterEnabledMetadata) : null;
    this.statPrefix = String(c?.statPrefix ?? '');
  }
}
