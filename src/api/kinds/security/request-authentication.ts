// RequestAuthentication (security.istio.io): which JWTs a workload accepts and how it verifies them.
import {
  obj,
  list,
  str,
  nonEmpty,
  bool,
  duration,
  child,
  fieldAt,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkOneTargetKind,
  policyTargetReference,
  workloadSelector,
  warnWaypointOnly,
  type PolicyTargetReference,
  type WorkloadSelector,
} from './policy-target.js';

/** A header a JWT may be read from. */
export interface JWTHeader {
  /** Header name, e.g. "x-jwt-assertion". */
  name: string;
  /** Prefix stripped before the token, e.g. "Bearer " (with its trailing space). */
  prefix?: string;
}

/** Copies one claim of a verified JWT into a request header. */
export interface ClaimToHeader {
  /** Header to set (a valid HTTP header name). */
  header: string;
  /** Claim name; nested claims are separated by "." . */
  claim: string;
}

/** One issuer a workload accepts JWTs from. */
export interface JWTRule {
  /** Expected `iss` claim. */
  issuer?: string;
  /** Accepted `aud` values; absent = the service's own name is accepted. */
  audiences?: string[];
  /** URL of the issuer's JSON Web Key Set (http or https). Exclusive with `jwks`. */
  jwksUri?: string;
  /** The JSON Web Key Set itself, as a JSON string. Exclusive with `jwksUri`. */
  jwks?: string;
  /** Headers the token is read from; default `Authorization: Bearer <token>`. */
  fromHeaders?: JWTHeader[];
  /** Query parameters the token is read from, e.g. "access_token". */
  fromParams?: string[];
  /** Cookies the token is read from. */
  fromCookies?: string[];
  /** Header that receives the verified payload, base64url-encoded. */
  outputPayloadToHeader?: string;
  /** Claims copied into headers after verification. */
  outputClaimToHeaders?: ClaimToHeader[];
  /** Keep the token on the request forwarded upstream (default: removed). */
  forwardOriginalToken?: boolean;
  /** Claims whose string value is split on spaces (e.g. "scope"), at most 64. */
  spaceDelimitedClaims?: string[];
  /** Timeout fetching jwksUri, as written (e.g. "5s"); default 5 s. */
  timeout?: string;
}

/** RequestAuthentication.spec. */
export interface RequestAuthenticationSpec {
  /** Workloads this policy applies to; absent = the whole namespace. Exclusive with targetRef(s). */
  selector?: WorkloadSelector;
  /** Resource the policy attaches to (a Gateway or Service). */
  targetRef?: PolicyTargetReference;
  /** Resources the policy attaches to. */
  targetRefs?: PolicyTargetReference[];
  /** Accepted issuers. */
  jwtRules?: JWTRule[];
}

/** A RequestAuthentication resource. */
export type RequestAuthentication = SpecResource<'RequestAuthentication', RequestAuthenticationSpec>;

// ---------- validation ----------

// Istio's strict header names (outputClaimToHeaders): letters, digits, "-", "_".
const STRICT_HEADER_NAME = /^[-_A-Za-z0-9]+$/;
// Any RFC 7230 token: a name a request can carry (fromHeaders, outputPayloadToHeader).
const TOKEN = /^[-!#$%&'*+.^_`|~A-Za-z0-9]+$/;

function checkStrictHeaderName(v: string, at: At, c: Checker): void {
  if (!STRICT_HEADER_NAME.test(v))
    c.error(at, `must be an HTTP header name (letters, digits, "-", "_"), got ${JSON.stringify(v)}`);
}

// Istio only requires these to be non-empty; a name that is not a token can never arrive in a request.
function checkTokenHeaderName(v: string, at: At, c: Checker): void {
  if (!TOKEN.test(v))
    c.error(
      at,
      `must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(v)}`,
    );
}

/** Reports unless `v` is an absolute http:// or https:// URL with a host. */
export function checkJwksUri(v: string, at: At, c: Checker): void {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    c.error(at, `must be an http:// or https:// URL, got ${JSON.stringify(v)}`);
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    c.error(at, `URI scheme ${JSON.stringify(u.protocol.slice(0, -1))} is not supported; use http or https`);
  else if (!u.hostname) c.error(at, `must name a host, got ${JSON.stringify(v)}`);
  else if (v.length > 2048) c.error(at, 'must be at most 2048 characters');
}

/** Reports unless `v` is a JSON Web Key Set (`{"keys": [...]}`) or a single JSON Web Key. */
export function checkJwks(v: string, at: At, c: Checker): void {
  let doc: unknown;
  try {
    doc = JSON.parse(v);
  } catch (err) {
    c.error(at, `jwks parse error: not JSON: ${(err as Error).message}`);
    return;
  }
  const isKey = (k: unknown): boolean =>
    typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string';
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    c.error(at, 'jwks parse error: must be a JSON object with a "keys" list');
    return;
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (keys === undefined) {
    if (!isKey(doc)) c.error(at, 'jwks parse error: must have a "keys" list (or be one key with "kty")');
    return;
  }
  if (!Array.isArray(keys)) c.error(at, 'jwks parse error: "keys" must be a list');
  else {
    const bad = keys.findIndex((k) => !isKey(k));
    if (bad >= 0) c.error(at, `jwks parse error: keys[${bad}] is not a JSON Web Key (needs "kty")`);
  }
}

/**
 * Warns about keys in an inline JWKS that carry private material (a symmetric "oct" key, or an RSA,
 * EC or OKP key with its private exponent "d"): verification needs only public keys, as Istio warns.
 */
export function warnPrivateJwks(v: string, at: At, c: Checker): void {
  let keys: unknown;
  try {
    const doc = JSON.parse(v) as { keys?: unknown };
    keys = doc && typeof doc === 'object' && 'keys' in doc ? doc.keys : [doc];
  } catch {
    return; // checkJwks reports it
  }
  if (!Array.isArray(keys)) return;
  keys.forEach((k: unknown, i) => {
    if (typeof k !== 'object' || k === null) return;
    const key = k as { kty?: unknown; d?: unknown };
    if (key.kty === 'oct' || key.d !== undefined)
      c.warn(
        at,
        `jwks key at index ${i} contains private key material; only public keys are used for verification, so publish the public key only`,
      );
  });
}

const jwtRule = (): Validator<JWTRule> =>
  obj<JWTRule>(
    {
      issuer: nonEmpty(),
      audiences: list(nonEmpty()),
      jwksUri: nonEmpty(checkJwksUri),
      jwks: nonEmpty((v, at, c) => {
        const mark = c.diagnostics.length;
        checkJwks(v, at, c);
        if (!c.failedSince(mark)) warnPrivateJwks(v, at, c);
      }),
      fromHeaders: list(
        obj<JWTHeader>({ name: { required: true, v: nonEmpty(checkTokenHeaderName) }, prefix: str() }),
      ),
      fromParams: list(nonEmpty()),
      fromCookies: list(nonEmpty()),
      outputPayloadToHeader: nonEmpty(checkTokenHeaderName),
      outputClaimToHeaders: list(
        obj<ClaimToHeader>({
          header: { required: true, v: nonEmpty(checkStrictHeaderName) },
          claim: { required: true, v: nonEmpty() },
        }),
      ),
      forwardOriginalToken: bool(),
      spaceDelimitedClaims: list(nonEmpty(), { max: 64 }),
      timeout: duration(1),
    },
    {
      rules: (r, at, c) => {
        // Istio: a rule with a jwksUri may leave the issuer out (any issuer whose keys verify).
        if (r.issuer === undefined && r.jwksUri === undefined)
          c.error(child(at, r, 'issuer'), 'is required unless jwksUri is set: issuer or jwksUri must be set');
        if (r.jwks !== undefined && r.jwksUri !== undefined)
          c.error(fieldAt(at, r, 'jwks'), 'only one of jwks or jwksUri may be set');
        else if (r.jwks === undefined && r.jwksUri === undefined)
          c.warn(
            fieldAt(at, r, 'issuer'),
            'neither jwksUri nor jwks is set: Mizzen does not discover keys through OpenID discovery, so every token of this issuer is rejected (401); set jwksUri',
          );
      },
    },
  );

/** Schema of RequestAuthentication.spec. */
export const requestAuthenticationSpec = (): Validator<RequestAuthenticationSpec> =>
  obj<RequestAuthenticationSpec>(
    {
      selector: workloadSelector(),
      targetRef: policyTargetReference(),
      targetRefs: list(policyTargetReference(), { max: 16 }),
      jwtRules: list(jwtRule(), { max: 4096 }),
    },
    {
      rules: (s, at, c) => {
        checkOneTargetKind(s, at, c);
        warnWaypointOnly(s, at, c);
      },
    },
  );

/** The RequestAuthentication kind. */
export const requestAuthenticationKind = istioKind(
  'RequestAuthentication',
  ISTIO_VERSIONS.security,
  requestAuthenticationSpec(),
);
