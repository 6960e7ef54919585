// RequestAuthentication (security.istio.io): which JWTs a workload accepts and how it verifies them.
import type { SpecResource } from '../../resource.js';
import type { PolicyTargetReference, WorkloadSelector } from './policy-target.js';

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
  issuer: string;
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
