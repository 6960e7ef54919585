// Schema and rules of a VirtualService HTTP rule: match, route/redirect/directResponse/delegate, retries, faults, CORS, mirrors.
import { GRPC_STATUS } from '../../grpc-status.js';
import {
  obj,
  str,
  nonEmpty,
  int,
  int32,
  uint32,
  bool,
  enumOf,
  list,
  record,
  exactlyOne,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { checkGatewayNames, msDuration, percent } from './common.js';
import { isDns1123Label } from './hosts.js';
import { checkAuthorityOnce, checkHeaderName, headers, isHeaderName, isPseudoHeader } from './headers.js';
import { checkRe2, stringMatch } from './string-match.js';
import { destination, httpRouteDestinations } from './destination.js';
import type {
  CorsPolicy,
  Delegate,
  HTTPBody,
  HTTPDirectResponse,
  HTTPFaultAbort,
  HTTPFaultDelay,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  RegexRewrite,
} from './virtual-service.js';

/** Prefix of header match keys that route on JWT claims (gateways only). */
export const JWT_CLAIM_PREFIX = '@request.auth.claims.';

/**
 * Header match key: a header name, a pseudo-header (`:method`, `:path`, ...), or a
 * `@request.auth.claims.<name>` JWT claim; upper case warns.
 */
function checkMatchHeaderName(name: string, at: At, c: Checker): void {
  if (name.startsWith(JWT_CLAIM_PREFIX) && name.length > JWT_CLAIM_PREFIX.length) return;
  if (isPseudoHeader(name)) {
    if (name === ':status')
      c.warn(
        at,
        'requests have no :status pseudo-header (only responses do): this condition tests an absent header',
      );
    return;
  }
  checkHeaderName(name, at, c);
  if (isHeaderName(name) && name !== name.toLowerCase())
    c.warn(at, `header names are matched case-insensitively; write ${JSON.stringify(name)} in lower case`);
}

/** Conditions on a request. */
export const httpMatchRequest = (): Validator<HTTPMatchRequest> =>
  obj<HTTPMatchRequest>(
    {
      name: str(),
      uri: stringMatch('uri'),
      scheme: stringMatch('scheme'),
      method: stringMatch('method'),
      authority: stringMatch('authority'),
      headers: record(stringMatch('headers'), checkMatchHeaderName),
      port: uint32(),
      sourceLabels: labels(),
      gateways: list(nonEmpty()),
      queryParams: record(stringMatch('queryParams')),
      ignoreUriCase: bool(),
      withoutHeaders: record(stringMatch('withoutHeaders'), checkMatchHeaderName),
      sourceNamespace: str((v, at, c) => {
        if (!isDns1123Label(v))
          c.error(at, `sourceNamespace ${JSON.stringify(v)} is not a valid namespace name`);
      }),
      statPrefix: str(),
    },
    {
      rules: (m, at, c) => {
        if (m.port !== undefined) checkPort(m.port, child(at, m, 'port'), c);
        if (m.gateways) checkGatewayNames(m.gateways, child(at, m, 'gateways'), c);
      },
    },
  );

/** Redirect response. */
const httpRedirect = (): Validator<HTTPRedirect> =>
  obj<HTTPRedirect>(
    {
      uri: str(),
      authority: str(),
      port: uint32(),
      derivePort: enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const),
      scheme: str(),
      redirectCode: uint32(),
    },
    {
      rules: (r, at, c) => {
        exactlyOne(r as Record<string, unknown>, ['port', 'derivePort'], at, c, true);
        if (!r.uri && !r.authority && !r.scheme && r.port === undefined && r.derivePort === undefined)
          c.error(at, 'redirect must specify uri, authority, scheme, port or derivePort');
        if (
          r.redirectCode !== undefined &&
          r.redirectCode !== 0 &&
          (r.redirectCode < 300 || r.redirectCode > 399)
        )
          c.error(
            child(at, r, 'redirectCode'),
            `${r.redirectCode} is not a valid redirect code, must be 3xx (300-399)`,
          );
        if (r.scheme && r.scheme !== 'http' && r.scheme !== 'https')
          c.error(
            child(at, r, 'scheme'),
            `invalid redirect scheme ${JSON.stringify(r.scheme)}: must be "http" or "https"`,
          );
        if (r.port) checkPort(r.port, child(at, r, 'port'), c);
      },
    },
  );

/** Reports unless `status` is an HTTP status 200–599. */
function checkHttpStatus(status: number, at: At, c: Checker): void {
  if (status < 200 || status > 599) c.error(at, `HTTP status ${status} is not in range 200-599`);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const KB = 1024;

const httpBody = (): Validator<HTTPBody> =>
  obj<HTTPBody>(
    {
      string: str(),
      bytes: str((v, at, c) => {
        if (!BASE64.test(v)) c.error(at, 'bytes must be base64-encoded');
      }),
    },
    { rules: (b, at, c) => exactlyOne(b as Record<string, unknown>, ['string', 'bytes'], at, c, true) },
  );

/** Fixed response. */
const httpDirectResponse = (): Validator<HTTPDirectResponse> =>
  obj<HTTPDirectResponse>(
    { status: { v: uint32(), required: true }, body: httpBody() },
    {
      rules: (d, at, c) => {
        checkHttpStatus(d.status, child(at, d, 'status'), c);
        const size =
          d.body?.string !== undefined
            ? Buffer.byteLength(d.body.string)
            : Math.floor(((d.body?.bytes ?? '').length * 3) / 4);
        if (size > KB * KB)
          c.error(child(at, d, 'body'), `body is ${size} bytes; direct responses must be less than 1MB`);
        else if (size > 100 * KB)
          c.warn(
            child(at, d, 'body'),
            'large direct responses (over 100KB) may impact control plane performance',
          );
      },
    },
  );

const delegate = (): Validator<Delegate> =>
  obj<Delegate>({
    name: { v: nonEmpty(), required: true },
    namespace: str((v, at, c) => {
      if (!isDns1123Label(v)) c.error(at, `invalid namespace ${JSON.stringify(v)}`);
    }),
  });

const regexRewrite = (): Validator<RegexRewrite> =>
  obj<RegexRewrite>(
    { match: str(), rewrite: str() },
    {
      rules: (r, at, c) => {
        if (!r.match || !r.rewrite) c.error(at, 'uriRegexRewrite needs both match and rewrite');
        else checkRe2(r.match, child(at, r, 'match'), c);
      },
    },
  );

const httpRewrite = (): Validator<HTTPRewrite> =>
  obj<HTTPRewrite>(
    { uri: str(), authority: str(), uriRegexRewrite: regexRewrite() },
    {
      rules: (r, at, c) => {
        if (r.uri && r.uriRegexRewrite)
          c.error(at, 'rewrite may contain only one of uri and uriRegexRewrite');
        else if (!r.uri && !r.uriRegexRewrite && !r.authority)
          c.error(at, 'rewrite must specify uri, uriRegexRewrite or authority');
      },
    },
  );

/** Envoy's retry conditions (x-envoy-retry-on and x-envoy-retry-grpc-on) Istio accepts in retryOn. */
export const RETRY_ON_POLICIES: readonly string[] = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];

// Registered HTTP status codes (what Go's http.StatusText knows), accepted in retryOn.
const STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function checkRetryOn(v: string, at: At, c: Checker): void {
  for (const p of v.split(',')) {
    if (RETRY_ON_POLICIES.includes(p) || (/^[0-9]{3}$/.test(p) && STATUS_CODES.has(Number(p)))) continue;
    c.error(
      at,
      `${JSON.stringify(p)} is not a valid retryOn policy; expected Envoy retry conditions (${RETRY_ON_POLICIES.slice(0, 7).join(', ')}, ...) or HTTP status codes, comma-separated`,
    );
  }
}

const httpRetry = (): Validator<HTTPRetry> =>
  obj<HTTPRetry>(
    {
      attempts: int(0, 2147483647),
      perTryTimeout: msDuration(),
      retryOn: str(checkRetryOn),
      retryRemoteLocalities: bool(),
      retryIgnorePreviousHosts: bool(),
      backoff: msDuration(),
    },
    {
      rules: (r, at, c) => {
        if (
          !r.attempts &&
          (r.perTryTimeout !== undefined || r.retryOn !== undefined || r.retryRemoteLocalities !== undefined)
        )
          c.error(
            at,
            'retries are disabled (attempts is 0 or unset) but perTryTimeout, retryOn or retryRemoteLocalities is set; set attempts',
          );
      },
    },
  );

/** gRPC status code names accepted for abort.grpcStatus. */
export const GRPC_STATUS_CODES = Object.keys(GRPC_STATUS);

function warnNoPercentage(
  f: { percentage?: unknown; percent?: number },
  at: At,
  what: string,
  c: Checker,
): void {
  if (f.percentage === undefined && !f.percent)
    c.warn(at, `no percentage given: the ${what} is never injected (set percentage.value, e.g. 100)`);
}

const faultDelay = (): Validator<HTTPFaultDelay> =>
  obj<HTTPFaultDelay>(
    {
      fixedDelay: msDuration(),
      exponentialDelay: msDuration(),
      percentage: percent(),
      percent: { v: int(0, 100), deprecated: 'use percentage: {value: N}' },
    },
    {
      rules: (d, at, c) => {
        if (d.exponentialDelay !== undefined)
          c.error(child(at, d, 'exponentialDelay'), 'exponentialDelay is not supported; use fixedDelay');
        else if (d.fixedDelay === undefined) c.error(child(at, d, 'fixedDelay'), 'is required');
        warnNoPercentage(d, at, 'delay', c);
      },
    },
  );

const faultAbort = (): Validator<HTTPFaultAbort> =>
  obj<HTTPFaultAbort>(
    {
      httpStatus: int32(),
      grpcStatus: str((v, at, c) => {
        if (!(GRPC_STATUS_CODES as readonly string[]).includes(v))
          c.error(
            at,
            `gRPC status ${JSON.stringify(v)} is not supported; use an upper-case code name such as UNAVAILABLE or NOT_FOUND`,
          );
      }),
      http2Error: str(),
      percentage: percent(),
    },
    {
      rules: (a, at, c) => {
        exactlyOne(a as Record<string, unknown>, ['httpStatus', 'grpcStatus', 'http2Error'], at, c, true);
        if (a.http2Error !== undefined)
          c.error(
            child(at, a, 'http2Error'),
            'HTTP/2 abort fault injection is not supported; use httpStatus or grpcStatus',
          );
        if (a.httpStatus !== undefined) checkHttpStatus(a.httpStatus, child(at, a, 'httpStatus'), c);
        if (a.httpStatus === undefined && a.grpcStatus === undefined && a.http2Error === undefined)
          c.warn(at, 'abort configured without httpStatus or grpcStatus');
        warnNoPercentage(a, at, 'abort', c);
      },
    },
  );

const httpFault = (): Validator<HTTPFaultInjection> =>
  obj<HTTPFaultInjection>(
    { delay: faultDelay(), abort: faultAbort() },
    {
      rules: (f, at, c) => {
        if (!f.delay && !f.abort) c.error(at, 'fault injection must have an abort and/or a delay');
      },
    },
  );

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];

function checkCorsHeaderName(name: string, at: At, c: Checker): void {
  if (name !== '*') checkHeaderName(name, at, c);
}

const maxAgeDuration = msDuration();

const corsPolicy = (): Validator<CorsPolicy> =>
  obj<CorsPolicy>({
    allowOrigins: list(stringMatch('cors')),
    allowOrigin: { v: list(str()), deprecated: 'use allowOrigins: [{exact: ...}]' },
    allowMethods: list(
      str((m, at, c) => {
        if (!HTTP_METHODS.includes(m))
          c.error(
            at,
            `${JSON.stringify(m)} is not a supported HTTP method; expected one of ${HTTP_METHODS.join(', ')}`,
          );
      }),
    ),
    allowHeaders: list(str(checkCorsHeaderName)),
    exposeHeaders: list(str(checkCorsHeaderName)),
    maxAge: (v, at, c) => {
      const s = maxAgeDuration(v, at, c);
      if (s !== undefined && /\.\d*[1-9]|ms|us|µs|ns/.test(s))
        c.error(at, `maxAge is accurate only to whole seconds, got ${s}`);
      return s;
    },
    allowCredentials: bool(),
    unmatchedPreflights: enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE'] as const),
  });

const mirrorPolicy = (): Validator<HTTPMirrorPolicy> =>
  obj<HTTPMirrorPolicy>({ destination: { v: destination(), required: true }, percentage: percent() });

/** Rules that need only the route itself: which actions may be combined. */
function routeRules(r: HTTPRoute, at: At, c: Checker): void {
  const f = (k: keyof HTTPRoute): At => child(at, r, k);
  if (r.delegate) {
    if (r.redirect) c.error(f('redirect'), 'a rule with delegate must not specify redirect');
    if (r.route) c.error(f('route'), 'a rule with delegate must not specify route');
    if (r.directResponse)
      c.error(f('directResponse'), 'a rule with delegate must not specify directResponse');
  } else if (r.redirect) {
    if (r.route?.length) c.error(f('redirect'), 'a rule cannot contain both route and redirect');
    if (r.fault) c.error(f('fault'), 'a rule cannot contain both fault and redirect');
    if (r.rewrite) c.error(f('rewrite'), 'a rule cannot contain both rewrite and redirect');
    if (r.directResponse)
      c.error(f('directResponse'), 'a rule cannot contain both directResponse and redirect');
  } else if (r.directResponse) {
    if (r.route?.length) c.error(f('directResponse'), 'a rule cannot contain both route and directResponse');
    if (r.fault) c.error(f('fault'), 'a rule cannot contain both fault and directResponse');
    if (r.rewrite) c.error(f('rewrite'), 'a rule cannot contain both rewrite and directResponse');
  } else if (!r.route?.length) {
    c.error(at, 'one of route, redirect, directResponse or delegate is required');
  }
  if (r.mirror && r.mirrors?.length) c.error(f('mirrors'), 'a rule cannot contain both mirror and mirrors');
  if (r.mirrorPercent !== undefined && r.mirrorPercent > 100)
    c.error(f('mirrorPercent'), `mirrorPercent must be at most 100, got ${r.mirrorPercent}`);
  checkAuthorityOnce(r.rewrite?.authority, r.headers, f('headers'), c);
}

/** One HTTP rule. Rules needing the whole VirtualService (delegates, gateways) run in virtual-service.ts. */
export const httpRoute = (): Validator<HTTPRoute> =>
  obj<HTTPRoute>(
    {
      name: str(),
      match: list(httpMatchRequest()),
      route: httpRouteDestinations(),
      redirect: httpRedirect(),
      directResponse: httpDirectResponse(),
      delegate: delegate(),
      rewrite: httpRewrite(),
      timeout: msDuration(),
      retries: httpRetry(),
      fault: httpFault(),
      mirror: destination(),
      mirrors: list(mirrorPolicy()),
      mirrorPercent: { v: uint32(), deprecated: 'use mirrorPercentage: {value: N}' },
      mirrorPercentage: percent(),
      corsPolicy: corsPolicy(),
      headers: headers(),
    },
    { rules: routeRules },
  );
