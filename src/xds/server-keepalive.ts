// The xDS server's HTTP/2 keepalive and connection age, istiod's defaults, as grpc-js server options.
import type { ServerOptions } from '@grpc/grpc-js';

/** Keepalive of the control plane's gRPC connections (istiod's `pkg/keepalive` options). */
export interface ServerKeepalive {
  /** A PING on every connection this often, ms; 0 = no pings (istiod `--keepaliveInterval`, 30 s). */
  readonly intervalMs: number;
  /** A PING not answered within this closes the connection, ms (istiod `--keepaliveTimeout`, 10 s). */
  readonly timeoutMs: number;
  /**
   * A connection this old (±10 % jitter) gets a GOAWAY, so proxies reconnect and spread over the
   * replicas, ms; 0 = never (istiod `--keepaliveMaxServerConnectionAge`: unlimited in the binary, 30 min
   * as Istio's installation runs it).
   */
  readonly maxConnectionAgeMs: number;
  /** Streams still open this long after that GOAWAY are closed, ms (istiod: 10 s, not a flag). */
  readonly maxConnectionAgeGraceMs: number;
}

/** What istiod runs with as Istio installs it: PING every 30 s, 10 s to answer, reconnect after 30 min. */
export const ISTIOD_KEEPALIVE: ServerKeepalive = {
  intervalMs: 30_000,
  timeoutMs: 10_000,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 10_000,
};

/** grpc-js server options for a keepalive (a 0 leaves grpc-js' "never" in place). */
export function keepaliveServerOptions(k: ServerKeepalive): ServerOptions {
  const o: ServerOptions = {};
  if (k.intervalMs > 0) {
    o['grpc.keepalive_time_ms'] = k.intervalMs;
    o['grpc.keepalive_timeout_ms'] = k.timeoutMs;
  }
  if (k.maxConnectionAgeMs > 0) {
    o['grpc.max_connection_age_ms'] = k.maxConnectionAgeMs;
    o['grpc.max_connection_age_grace_ms'] = k.maxConnectionAgeGraceMs;
  }
  return o;
}

/** One line for the server log: what the keepalive does. */
export function describeKeepalive(k: ServerKeepalive): string {
  const pings =
    k.intervalMs > 0
      ? `PING every ${seconds(k.intervalMs)}, a connection that answers none within ${seconds(k.timeoutMs)} is closed`
      : 'no PINGs';
  const age =
    k.maxConnectionAgeMs > 0
      ? `connections get a GOAWAY after ${seconds(k.maxConnectionAgeMs)} ±10% (streams closed ${seconds(k.maxConnectionAgeGraceMs)} later)`
      : 'no maximum connection age';
  return `xds keepalive: ${pings}; ${age}`;
}

function seconds(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
