// Verifies one JWT for one provider in Envoy's order (format, issuer, time, audiences, keys, signature)
// with the jose library, and reports failures with Envoy's status messages.
import type { JWTPayload } from 'jose';
import { jose, type Jose } from './jose-module.js';
import type { JwtProvider } from './jwt-provider.js';

/** Algorithms Envoy's jwt_authn accepts. */
export const ENVOY_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
  'EdDSA',
];

/** Envoy's jwt_authn status messages (the 401 body). */
export const JwtStatus = {
  Missing: 'Jwt is missing',
  BadFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  HeaderBadJson: 'Jwt header is an invalid JSON',
  PayloadBadJson: 'Jwt payload is an invalid JSON',
  BadAlg: 'Jwt header [alg] is not supported',
  UnknownIssuer: 'Jwt issuer is not configured',
  Expired: 'Jwt is expired',
  NotYetValid: 'Jwt not yet valid',
  NoExpiration: 'Jwt does not have an expiration time',
  AudienceNotAllowed: 'Audiences in Jwt are not allowed',
  KidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  FetchFail: 'Jwks remote fetch is failed',
  VerificationFail: 'Jwt verification fails',
} as const;

/** A verification outcome. */
export type Verified =
  | { readonly ok: true; readonly payload: JWTPayload; readonly rawPayload: string }
  | { readonly ok: false; readonly message: string };

const fail = (message: string): Verified => ({ ok: false, message });

/** Envoy compares audiences without scheme and trailing slash. */
function normAud(a: string): string {
  return a.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

function audiencesAllowed(p: JwtProvider, aud: JWTPayload['aud']): boolean {
  if (p.audiences.length === 0) return true;
  const have = (Array.isArray(aud) ? aud : aud === undefined ? [] : [aud]).map(normAud);
  return p.audiences.some((a) => have.includes(normAud(a)));
}

/** Checks issuer, times and audiences on the decoded token; null when they pass. */
function checkClaims(p: JwtProvider, claims: JWTPayload): string | null {
  if (p.issuer !== '' && claims.iss !== p.issuer) return JwtStatus.UnknownIssuer;
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.nbf === 'number' && claims.nbf > now + p.clockSkewS) return JwtStatus.NotYetValid;
  if (typeof claims.exp === 'number' && claims.exp < now - p.clockSkewS) return JwtStatus.Expired;
  if (claims.exp === undefined && p.requireExpiration) return JwtStatus.NoExpiration;
  if (!audiencesAllowed(p, claims.aud)) return JwtStatus.AudienceNotAllowed;
  return null;
}

function verifyError(errors: Jose['errors'], e: unknown): string {
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys)
    return JwtStatus.KidAlgMismatch;
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return JwtStatus.BadAlg;
  if (e instanceof errors.JWTExpired) return JwtStatus.Expired;
  return JwtStatus.VerificationFail;
}

/** Verifies `token` for provider `p`. Never throws. */
export async function verifyJwt(token: string, p: JwtProvider): Promise<Verified> {
  const parts = token.split('.');
  if (parts.length !== 3) return fail(JwtStatus.BadFormat);
  const j = jose();
  const { decodeJwt, decodeProtectedHeader, errors, jwtVerify } = j instanceof Promise ? await j : j;
  let claims: JWTPayload;
  try {
    const alg = decodeProtectedHeader(token).alg;
    if (typeof alg !== 'string' || !ENVOY_ALGS.includes(alg)) return fail(JwtStatus.BadAlg);
  } catch {
    return fail(JwtStatus.HeaderBadJson);
  }
  try {
    claims = decodeJwt(token);
  } catch {
    return fail(JwtStatus.PayloadBadJson);
  }
  const bad = checkClaims(p, claims);
  if (bad !== null) return fail(bad);
  let keys = p.jwks.keys();
  if (keys instanceof Promise) keys = await keys;
  if (keys instanceof Error) return fail(JwtStatus.FetchFail);
  try {
    const r = await jwtVerify(token, keys, { algorithms: ENVOY_ALGS, clockTolerance: p.clockSkewS });
    return { ok: true, payload: r.payload, rawPayload: parts[1] };
  } catch (e) {
    return fail(verifyError(errors, e));
  }
}
