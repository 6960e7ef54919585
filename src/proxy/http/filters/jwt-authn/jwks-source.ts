// Where a provider's keys come from: local_jwks (inline JSON) or remote_jwks fetched by the proxy,
// cached for cache_duration, refetched after it expires, with a status saying why a fetch failed.
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import { jose, loadJose, type Jose } from './jose-module.js';
import { logger } from '../../../log.js';
import type { Counter } from '../../../stats/stats-store.js';
import { durationMs } from '../../../util/values.js';
import type { envoy_extensions_filters_http_jwt_authn_v3_RemoteJwks as RemoteJwksMessage } from '../../../../xds/envoy-types.js';

const log = logger('jwt');

/** Envoy's default remote JWKS cache duration (5 min) and fetch timeout (Istio's 5 s). */
const DEFAULT_CACHE_MS = 300_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** After a failed fetch, requests fail fast for this long before the next attempt (ms). */
const RETRY_AFTER_FAILURE_MS = 1_000;

/** Key lookup for jose, or an Error saying why there are no keys (Envoy: "Jwks remote fetch is failed"). */
export interface JwksSource {
  keys(): JWTVerifyGetKey | Error | Promise<JWTVerifyGetKey | Error>;
  /** Human-readable state for logs and the admin config dump: `ok`, `fetching`, or the last error. */
  readonly status: string;
}

/** Counters Envoy keeps per jwt_authn filter. */
export interface JwksStats {
  readonly fetchSuccess: Counter;
  readonly fetchFailed: Counter;
}

/** Starts loading jose as the filter is configured, so the first token does not wait for it. */
function preload(): void {
  loadJose().catch((e: Error) => log.error(`jwt_authn: cannot load jose: ${e.message}`));
}

/** A key set's JSON, checked: throws when it is not a JWKS. */
function parseJwksJson(text: string): JSONWebKeySet {
  const jwks = JSON.parse(text) as JSONWebKeySet;
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('not a JSON Web Key Set (no "keys" array)');
  // What jose's createLocalJWKSet also demands, checked here so the status says it at config time.
  if (!jwks.keys.every((k) => typeof k === 'object' && k !== null))
    throw new Error('JSON Web Key Set malformed (a key is not an object)');
  return jwks;
}

function keyLookup(j: Jose, jwks: JSONWebKeySet): JWTVerifyGetKey {
  const { createLocalJWKSet, errors, importJWK } = j;
  const asymmetric = createLocalJWKSet({ keys: jwks.keys.filter((k) => k.kty !== 'oct') });
  const secrets = jwks.keys.filter((k) => k.kty === 'oct');
  if (secrets.length === 0) return asymmetric;
  // jose's key sets hold public keys only; Envoy also takes HS256/384/512 secrets (kty "oct") from a JWKS.
  const secretKey = (alg: string, kid: string | undefined): Promise<Uint8Array | CryptoKey> => {
    const k = secrets.find(
      (x: JWK) => (kid === undefined || x.kid === kid) && (x.alg === undefined || x.alg === alg),
    );
    if (!k) throw new errors.JWKSNoMatchingKey();
    return importJWK(k, alg);
  };
  return (header, token) =>
    header.alg.startsWith('HS') ? secretKey(header.alg, header.kid) : asymmetric(header, token);
}

/** An inline key set, parsed once; its key lookup is built at the first token (jose is loaded by then). */
export class LocalJwks implements JwksSource {
  private readonly jwks: JSONWebKeySet | null = null;
  private getKey: JWTVerifyGetKey | Error | null = null;
  readonly status: string;

  constructor(text: string) {
    preload();
    try {
      this.jwks = parseJwksJson(text);
      this.status = 'ok';
    } catch (e) {
      // Envoy accepts the config and fails each token with "Jwks is an invalid JSON"-style errors.
      this.getKey = new Error(`Jwks parse error: ${(e as Error).message}`);
      this.status = this.getKey.message;
    }
  }

  keys(): JWTVerifyGetKey | Error | Promise<JWTVerifyGetKey | Error> {
    if (this.getKey !== null) return this.getKey;
    const j = jose();
    return j instanceof Promise ? j.then((m) => this.lookup(m)) : this.lookup(j);
  }

  private lookup(j: Jose): JWTVerifyGetKey | Error {
    try {
      return (this.getKey ??= keyLookup(j, this.jwks!));
    } catch (e) {
      return (this.getKey = new Error(`Jwks parse error: ${(e as Error).message}`));
    }
  }
}

/** A remote key set: one fetch at a time, cached, refetched once stale; failures fail requests fast. */
export class RemoteJwks implements JwksSource {
  readonly uri: string;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private cached: JWTVerifyGetKey | null = null;
  private fetchedAt = 0;
  private failedAt = -Infinity;
  private lastError: Error | null = null;
  private inflight: Promise<JWTVerifyGetKey | Error> | null = null;

  constructor(
    remote: RemoteJwksMessage,
    private readonly stats: JwksStats,
  ) {
    this.uri = String(remote.httpUri?.uri ?? '');
    if (!/^https?:\/\//.test(this.uri))
      throw new Error(`remote_jwks.http_uri.uri: must be an http(s) URL, got "${this.uri}"`);
    this.cacheMs = durationMs(remote.cacheDuration, DEFAULT_CACHE_MS);
    this.timeoutMs = durationMs(remote.httpUri?.timeout, DEFAULT_TIMEOUT_MS);
    preload();
  }

  get status(): string {
    if (this.lastError) return `fetch from ${this.uri} failed: ${this.lastError.message}`;
    return this.cached ? 'ok' : 'fetching';
  }

  keys(): JWTVerifyGetKey | Error | Promise<JWTVerifyGetKey | Error> {
    const now = Date.now();
    if (this.cached !== null && now - this.fetchedAt < this.cacheMs) return this.cached;
    if (this.cached === null && this.lastError && now - this.failedAt < RETRY_AFTER_FAILURE_MS)
      return this.lastError;
    return (this.inflight ??= this.fetch());
  }

  private async fetch(): Promise<JWTVerifyGetKey | Error> {
    try {
      const res = await fetch(this.uri, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      this.cached = keyLookup(await loadJose(), parseJwksJson(text));
      this.fetchedAt = Date.now();
      if (this.lastError) log.info(`jwt_authn: jwks from ${this.uri} fetched again`);
      this.lastError = null;
      this.stats.fetchSuccess.inc();
      return this.cached;
    } catch (e) {
      const err = e as Error;
      const reason = err.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : err.message;
      this.lastError = new Error(reason);
      this.failedAt = Date.now();
      this.stats.fetchFailed.inc();
      log.warn(`jwt_authn: jwks fetch from ${this.uri} failed: ${reason}`);
      // A stale key set keeps serving until a fetch succeeds (Envoy keeps the last good JWKS).
      return this.cached ?? this.lastError;
    } finally {
      this.inflight = null;
    }
  }
}
