// One compiled JwtProvider: issuer, audiences, key source, token locations and what a verified token
// produces (payload metadata, forwarded payload header, claim headers, token removal).
import type { Counter } from '../../../stats/stats-store.js';
import { LocalJwks, RemoteJwks, type JwksSource, type JwksStats } from './jwks-source.js';
import type { envoy_extensions_filters_http_jwt_authn_v3_JwtProvider as JwtProviderMessage } from '../../../../xds/envoy-types.js';

/** A header the token is read from, with the prefix before it (e.g. `Bearer `). */
export interface TokenHeader {
  readonly name: string;
  readonly prefix: string;
}

/** A claim copied into a request header. */
export interface ClaimHeader {
  readonly header: string;
  /** Claim path, nested claims separated by '.'. */
  readonly claim: readonly string[];
}

/** Provider fields Mizzen does not implement: refused rather than ignored. */
const UNSUPPORTED = ['subjects', 'maxLifetime', 'headerInMetadata', 'failedStatusInMetadata', 'customClaims'];

/** Envoy's default clock skew (s). */
const DEFAULT_CLOCK_SKEW_S = 60;

/** A compiled envoy.extensions.filters.http.jwt_authn.v3.JwtProvider. Immutable. */
export class JwtProvider {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks: JwksSource;
  readonly headers: readonly TokenHeader[];
  readonly params: readonly string[];
  readonly cookies: readonly string[];
  /** Keep the token in the request forwarded upstream. */
  readonly forward: boolean;
  /** Header receiving the base64url payload ('' = none). */
  readonly forwardPayloadHeader: string;
  /** Dynamic metadata key for the payload under envoy.filters.http.jwt_authn ('' = none). */
  readonly payloadInMetadata: string;
  /** Claims split on spaces into lists in the metadata payload (scope, permission). */
  readonly spaceDelimited: ReadonlySet<string>;
  readonly claimHeaders: readonly ClaimHeader[];
  readonly clockSkewS: number;
  readonly requireExpiration: boolean;

  constructor(
    readonly name: string,
    p: JwtProviderMessage,
    stats: JwksStats,
  ) {
    this.issuer = String(p.issuer ?? '');
    this.audiences = (p.audiences ?? []).map(String);
    if (p.localJwks) {
      const l = p.localJwks;
      if (l.inlineString === undefined) throw new Error('local_jwks: only inline_string is supported');
      this.jwks = new LocalJwks(String(l.inlineString));
    } else if (p.remoteJwks) this.jwks = new RemoteJwks(p.remoteJwks, stats);
    else throw new Error('needs local_jwks or remote_jwks');
    const hs = (p.fromHeaders ?? []).map((h) => ({
      name: String(h.name ?? '').toLowerCase(),
      prefix: String(h.valuePrefix ?? ''),
    }));
    this.params = (p.fromParams ?? []).map(String);
    this.cookies = (p.fromCookies ?? []).map(String);
    // Envoy's default locations: `Authorization: Bearer <token>` and the access_token query parameter.
    const none = hs.length === 0 && this.params.length === 0 && this.cookies.length === 0;
    this.headers = none ? [{ name: 'authorization', prefix: 'Bearer ' }] : hs;
    if (none) this.params = ['access_token'];
    this.forward = p.forward === true;
    this.forwardPayloadHeader = String(p.forwardPayloadHeader ?? '').toLowerCase();
    this.payloadInMetadata = String(p.payloadInMetadata ?? '');
    this.spaceDelimited = new Set((p.normalizePayloadInMetadata?.spaceDelimitedClaims ?? []).map(String));
    this.claimHeaders = (p.claimToHeaders ?? []).map((c) => ({
      header: String(c.headerName ?? '').toLowerCase(),
      claim: String(c.claimName ?? '').split('.'),
    }));
    this.clockSkewS = p.clockSkewSeconds !== undefined ? Number(p.clockSkewSeconds) : DEFAULT_CLOCK_SKEW_S;
    this.requireExpiration = p.requireExpiration === true;
    // By name: customClaims is newer than the protos the types come from.
    const fields = p as Record<string, unknown>;
    for (const f of UNSUPPORTED) if (fields[f] !== undefined) throw new Error(`${f} is not supported`);
  }
}

/** Stats of one jwt_authn filter (`http.<prefix>.jwt_authn.`). */
export interface JwtStats extends JwksStats {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly corsPreflightBypassed: Counter;
}
