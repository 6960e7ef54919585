// VirtualService (networking.istio.io): how requests to a set of hosts are routed, retried, faulted and mirrored.
import {
  obj,
  str,
  nonEmpty,
  uint32,
  list,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkCidr, checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { checkExportTo, checkGatewayNames, namespaceOf } from './common.js';
import { isDns1123Label } from './hosts.js';
import { httpRoute } from './http-route.js';
import { routeDestinations } from './destination.js';
import { virtualServiceRules } from './virtual-service-rules.js';

/** VirtualService.spec. */
export interface VirtualServiceSpec {
  /** Destination hosts the rules apply to: short names, FQDNs, `*.`-wildcards, or `*` (gateways only). */
  hosts?: string[];
  /** Gateways (`[ns/]name`) and/or the reserved `mesh` the rules apply to; absent = `mesh` only. */
  gateways?: string[];
  /** Ordered HTTP rules (HTTP/1.1, HTTP/2, gRPC); first match wins. */
  http?: HTTPRoute[];
  /** Ordered rules for unterminated TLS/HTTPS traffic, matched on SNI. */
  tls?: TLSRoute[];
  /** Ordered rules for opaque TCP traffic. */
  tcp?: TCPRoute[];
  /** Namespaces this VirtualService is visible to: `.`, `*` or namespace names; absent = all. */
  exportTo?: string[];
}

/** A VirtualService resource. */
export type VirtualService = SpecResource<'VirtualService', VirtualServiceSpec>;

/** One HTTP routing rule: match conditions and exactly one action (route, redirect, directResponse, delegate). */
export interface HTTPRoute {
  /** Name of the rule, logged in access logs and used in stats. */
  name?: string;
  /** Alternatives (OR); within one entry all conditions must hold (AND). Absent = match everything. */
  match?: HTTPMatchRequest[];
  /** Weighted destinations to forward to. */
  route?: HTTPRouteDestination[];
  /** Send an HTTP redirect instead of forwarding. */
  redirect?: HTTPRedirect;
  /** Answer directly with a fixed status and body. */
  directResponse?: HTTPDirectResponse;
  /** Hand the matched requests to another VirtualService's http rules (root VirtualService only). */
  delegate?: Delegate;
  /** Rewrite the URI / authority before forwarding. */
  rewrite?: HTTPRewrite;
  /** Timeout for the whole request (all retries), duration string; absent = no timeout. */
  timeout?: string;
  /** Retry policy; absent = Istio's default (2 attempts). */
  retries?: HTTPRetry;
  /** Faults (delay / abort) injected on the client side. */
  fault?: HTTPFaultInjection;
  /** Single mirror destination (shadow traffic); its responses are dropped. */
  mirror?: Destination;
  /** Several mirror destinations, each with its own percentage. */
  mirrors?: HTTPMirrorPolicy[];
  /** Deprecated: percentage (integer 0–100) of traffic mirrored; use mirrorPercentage. */
  mirrorPercent?: number;
  /** Percentage of traffic mirrored to `mirror` (0–100, fractional allowed); default 100. */
  mirrorPercentage?: Percent;
  /** Cross-Origin Resource Sharing policy. */
  corsPolicy?: CorsPolicy;
  /** Header manipulation for requests and responses of this rule. */
  headers?: Headers;
}

/** Delegation to another VirtualService (which must not itself declare hosts). */
export interface Delegate {
  /** Name of the delegate VirtualService. */
  name?: string;
  /** Namespace of the delegate VirtualService; default the root's namespace. */
  namespace?: string;
}

/** Header manipulation on requests and responses. */
export interface Headers {
  /** Operations on request headers (before forwarding). */
  request?: HeaderOperations;
  /** Operations on response headers (before returning to the caller). */
  response?: HeaderOperations;
}

/** Set / append / remove header operations. */
export interface HeaderOperations {
  /** Headers to set, overwriting any existing value. */
  set?: Record<string, string>;
  /** Headers to append to existing values. */
  add?: Record<string, string>;
  /** Header names to remove. */
  remove?: string[];
}

/** A rule for unterminated TLS traffic. */
export interface TLSRoute {
  /** Match conditions (required); sniHosts must be covered by the VirtualService hosts. */
  match: TLSMatchAttributes[];
  /** Destinations to forward the connection to. */
  route?: RouteDestination[];
}

/** A rule for opaque TCP traffic. */
export interface TCPRoute {
  /** Match conditions; absent = all connections. */
  match?: L4MatchAttributes[];
  /** Destinations to forward the connection to. */
  route?: RouteDestination[];
}

/** Conditions on an HTTP request; all given conditions must hold. */
export interface HTTPMatchRequest {
  /** Name of the match, appended to the route name in logs. */
  name?: string;
  /** Match on the URI path (query string excluded for exact/prefix). */
  uri?: StringMatch;
  /** Match on the URI scheme ("http", "https"). */
  scheme?: StringMatch;
  /** Match on the HTTP method. */
  method?: StringMatch;
  /** Match on the authority (Host header). */
  authority?: StringMatch;
  /** Header name (lower-case) → match; an empty match `{}` means "present". */
  headers?: Record<string, StringMatch>;
  /** Port the request was received on (1–65535). */
  port?: number;
  /** Labels the client workload must carry (selects which proxies get this rule). */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to; overrides the VirtualService's gateways. */
  gateways?: string[];
  /** Query parameter name → match (exact or regex only). */
  queryParams?: Record<string, StringMatch>;
  /** Match the URI case-insensitively (exact and prefix only). */
  ignoreUriCase?: boolean;
  /** Header name → match; the request must NOT match any of these. */
  withoutHeaders?: Record<string, StringMatch>;
  /** Namespace of the client workload (selects which proxies get this rule). */
  sourceNamespace?: string;
  /** Prefix for stats of this match (route-level stats). */
  statPrefix?: string;
}

/** A string match: exactly one of exact, prefix, or RE2 regex (whole-string). */
export interface StringMatch {
  /** Exact string. */
  exact?: string;
  /** Plain string prefix. */
  prefix?: string;
  /** RE2 regular expression matched against the whole value. */
  regex?: string;
}

/** A weighted HTTP destination. */
export interface HTTPRouteDestination {
  /** Where to forward. */
  destination: Destination;
  /** Share of the traffic (integer 0–100 as Istio's docs say; relative to the other weights). */
  weight?: number;
  /** Header manipulation applied only when this destination is chosen. */
  headers?: Headers;
}

/** A weighted L4 destination. */
export interface RouteDestination {
  /** Where to forward. */
  destination: Destination;
  /** Share of the traffic (relative to the other weights). */
  weight?: number;
}

/** Conditions on a TCP connection. */
export interface L4MatchAttributes {
  /** Destination IPs / CIDR blocks. */
  destinationSubnets?: string[];
  /** Destination port (1–65535). */
  port?: number;
  /** Deprecated in Istio (not implemented): source IP / CIDR. */
  sourceSubnet?: string;
  /** Labels the client workload must carry. */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to. */
  gateways?: string[];
  /** Namespace of the client workload. */
  sourceNamespace?: string;
}

/** Conditions on a TLS connection. */
export interface TLSMatchAttributes {
  /** SNI values to match (required); wildcards allowed; must be covered by the VirtualService hosts. */
  sniHosts: string[];
  /** Destination IPs / CIDR blocks. */
  destinationSubnets?: string[];
  /** Destination port (1–65535). */
  port?: number;
  /** Labels the client workload must carry. */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to. */
  gateways?: string[];
  /** Namespace of the client workload. */
  sourceNamespace?: string;
}

/** A redirect response. */
export interface HTTPRedirect {
  /** Replaces the path of the redirect URL. */
  uri?: string;
  /** Replaces the authority (host[:port]) of the redirect URL. */
  authority?: string;
  /** Port of the redirect URL (1–65535); excludes derivePort. */
  port?: number;
  /** Derive the port from the scheme (FROM_PROTOCOL_DEFAULT) or the request (FROM_REQUEST_PORT). */
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  /** Scheme of the redirect URL ("http"/"https"); default the request's. */
  scheme?: string;
  /** HTTP status of the redirect (300–399); default 301. */
  redirectCode?: number;
}

/** A fixed response. */
export interface HTTPDirectResponse {
  /** HTTP status to answer with (200–599). */
  status: number;
  /** Response body. */
  body?: HTTPBody;
}

/** A response body: text or base64 bytes. */
export interface HTTPBody {
  /** Body as text. */
  string?: string;
  /** Body as base64-encoded bytes. */
  bytes?: string;
}

/** URI / authority rewrite. */
export interface HTTPRewrite {
  /** Replaces the matched prefix (or the whole path for exact matches). */
  uri?: string;
  /** Replaces the authority (Host) header. */
  authority?: string;
  /** Regex rewrite of the path; excludes `uri`. */
  uriRegexRewrite?: RegexRewrite;
}

/** A regex rewrite: RE2 `match` replaced with `rewrite` (`\1` backreferences allowed). */
export interface RegexRewrite {
  /** RE2 regular expression. */
  match?: string;
  /** Substitution string. */
  rewrite?: string;
}

/** Retry policy. */
export interface HTTPRetry {
  /** Number of retries (>= 0; 0 disables retries). Total tries = 1 + attempts. */
  attempts?: number;
  /** Timeout of each try, duration >= 1ms; default the route timeout. */
  perTryTimeout?: string;
  /** Comma-separated Envoy retry conditions and/or HTTP status codes. */
  retryOn?: string;
  /** Allow retries to go to other localities. */
  retryRemoteLocalities?: boolean;
  /** Prefer a host other than the ones already tried (default true in Istio). */
  retryIgnorePreviousHosts?: boolean;
  /** Base interval of the exponential retry back-off, duration >= 1ms; default 25ms. */
  backoff?: string;
}

/** Cross-Origin Resource Sharing policy. */
export interface CorsPolicy {
  /** Origins allowed (string matches). */
  allowOrigins?: StringMatch[];
  /** Deprecated: exact origins allowed; use allowOrigins. */
  allowOrigin?: string[];
  /** Methods allowed (Access-Control-Allow-Methods). */
  allowMethods?: string[];
  /** Request headers allowed (Access-Control-Allow-Headers). */
  allowHeaders?: string[];
  /** Response headers exposed (Access-Control-Expose-Headers). */
  exposeHeaders?: string[];
  /** How long preflight results may be cached (Access-Control-Max-Age), duration >= 1s. */
  maxAge?: string;
  /** Whether credentials are allowed (Access-Control-Allow-Credentials). */
  allowCredentials?: boolean;
  /** What to do with preflights whose origin does not match: forward upstream or ignore. */
  unmatchedPreflights?: 'UNSPECIFIED' | 'FORWARD' | 'IGNORE';
}

/** Faults injected into matched requests. */
export interface HTTPFaultInjection {
  /** Delay before forwarding. */
  delay?: HTTPFaultDelay;
  /** Abort with an error instead of forwarding. */
  abort?: HTTPFaultAbort;
}

/** Injected delay. */
export interface HTTPFaultDelay {
  /** Delay length, duration >= 1ms (required). */
  fixedDelay?: string;
  /** Not implemented by Istio: exponential delay mean. */
  exponentialDelay?: string;
  /** Share of requests delayed (0–100); absent = no requests. */
  percentage?: Percent;
  /** Deprecated: integer percentage 0–100; use percentage. */
  percent?: number;
}

/** Injected abort. */
export interface HTTPFaultAbort {
  /** HTTP status to answer with (200–599). */
  httpStatus?: number;
  /** gRPC status code name (e.g. UNAVAILABLE). */
  grpcStatus?: string;
  /** HTTP/2 error name (not implemented by Istio). */
  http2Error?: string;
  /** Share of requests aborted (0–100); absent = no requests. */
  percentage?: Percent;
}

/** A percentage 0.0–100.0. */
export interface Percent {
  /** The percentage (0–100, fractional allowed). */
  value: number;
}

/** One mirror destination. */
export interface HTTPMirrorPolicy {
  /** Where mirrored requests go (required). */
  destination: Destination;
  /** Share mirrored (0–100); default 100. */
  percentage?: Percent;
}

/** A service (and optional subset and port) to send traffic to. */
export interface Destination {
  /** Service name from the registry: short name (resolved in the resource's namespace) or FQDN. */
  host: string;
  /** Subset name defined in a DestinationRule for the host. */
  subset?: string;
  /** Port on the host; needed when the service exposes several ports. */
  port?: PortSelector;
}

/** A port by number. */
export interface PortSelector {
  /** Port number (1–65535). */
  number: number;
}

// ---------- schema ----------

const checkNamespaceName = (v: string, at: At, c: Checker): void => {
  if (!isDns1123Label(v)) c.error(at, `sourceNamespace ${JSON.stringify(v)} is not a valid namespace name`);
};

/** Checks the fields L4 and TLS matches share. */
function l4Rules(m: { port?: number; gateways?: string[] }, at: At, c: Checker): void {
  if (m.port !== undefined) checkPort(m.port, child(at, m, 'port'), c);
  if (m.gateways) checkGatewayNames(m.gateways, child(at, m, 'gateways'), c);
}

const l4Match = (): Validator<L4MatchAttributes> =>
  obj<L4MatchAttributes>(
    {
      destinationSubnets: list(str(checkCidr)),
      port: uint32(),
      sourceSubnet: str(checkCidr),
      sourceLabels: labels(),
      gateways: list(nonEmpty()),
      sourceNamespace: str(checkNamespaceName),
    },
    { rules: l4Rules },
  );

const tlsMatch = (): Validator<TLSMatchAttributes> =>
  obj<TLSMatchAttributes>(
    {
      sniHosts: { v: list(nonEmpty(), { min: 1 }), required: true },
      destinationSubnets: list(str(checkCidr)),
      port: uint32(),
      sourceLabels: labels(),
      gateways: list(nonEmpty()),
      sourceNamespace: str(checkNamespaceName),
    },
    { rules: l4Rules },
  );

/** Reports a TLS/TCP rule without destinations. */
function needsRoute(kind: string): (r: { route?: RouteDestination[] }, at: At, c: Checker) => void {
  return (r, at, c) => {
    if (!r.route?.length)
      c.error(child(at, r, 'route'), `a ${kind} rule needs at least one route destination`);
  };
}

const tlsRoute = (): Validator<TLSRoute> =>
  obj<TLSRoute>(
    { match: { v: list(tlsMatch(), { min: 1 }), required: true }, route: routeDestinations() },
    { rules: needsRoute('TLS') },
  );

const tcpRoute = (): Validator<TCPRoute> =>
  obj<TCPRoute>({ match: list(l4Match()), route: routeDestinations() }, { rules: needsRoute('TCP') });

/** Schema of VirtualService.spec. */
export const virtualServiceSpec = (): Validator<VirtualServiceSpec> =>
  obj<VirtualServiceSpec>(
    {
      hosts: list(nonEmpty()),
      gateways: list(nonEmpty()),
      http: list(httpRoute()),
      tls: list(tlsRoute()),
      tcp: list(tcpRoute()),
      exportTo: list(str()),
    },
    {
      rules: (s, at, c) => {
        if (s.exportTo) checkExportTo(s.exportTo, child(at, s, 'exportTo'), c, namespaceOf(at), false);
        virtualServiceRules(s, at, c);
      },
    },
  );

/** The VirtualService kind. */
export const virtualServiceKind = istioKind(
  'VirtualService',
  ISTIO_VERSIONS.networking,
  virtualServiceSpec(),
);
