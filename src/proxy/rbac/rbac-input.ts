// What the RBAC engine reads about a connection or request (Envoy's RBAC attributes).
import type { HeaderSource } from '../matchers/header-matcher.js';
import type { DynamicMetadata } from './value-matcher.js';

/** The attributes RBAC permissions and principals match on. */
export interface RbacInput {
  /** The peer of the downstream connection (`direct_remote_ip`, Istio `source.ip`). */
  readonly directRemoteIp: string;
  /** The original client (`remote_ip`, Istio `remote.ip`): from X-Forwarded-For per the HCM's trusted hops. */
  readonly remoteIp: string;
  /** The address and port the connection was accepted on (`destination_ip` / `destination_port`). */
  readonly localIp: string;
  readonly localPort: number;
  /** TLS SNI, '' when none. */
  readonly sni: string;
  /** Verified URI SAN of the peer certificate, '' when none (`authenticated`). */
  readonly peerPrincipal: string;
  /** Request headers and pseudo headers; null on TCP connections. */
  readonly headers: HeaderSource | null;
  /** Request path without query (`url_path`); '' on TCP. */
  readonly path: string;
  /** Dynamic metadata (e.g. `envoy.filters.http.jwt_authn`), null when none. */
  readonly metadata: DynamicMetadata | null;
}

/** Splits `ip:port` (IPv6 without brackets as node reports it) into its parts. */
export function splitAddress(addr: string): { ip: string; port: number } {
  const i = addr.lastIndexOf(':');
  return i < 0 ? { ip: addr, port: 0 } : { ip: addr.slice(0, i), port: Number(addr.slice(i + 1)) || 0 };
}
