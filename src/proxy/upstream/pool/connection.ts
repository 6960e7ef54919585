// Opens one upstream TCP connection with the cluster's connect timeout and keeps cx stats/host counters.
import { connect, type Socket } from 'node:net';
import type { Host } from '../host.js';
import type { ClusterStats } from '../cluster-stats.js';
import type { CircuitBreaker } from '../circuit-breaker.js';
import type { UpstreamTls } from '../../tls/upstream-tls.js';
import { LocalResult, type OutlierDetector } from '../outlier/outlier-detector.js';
import { CONNECT_TIMEOUT_CODE } from './conn-pool.js';
import type { PoolOptions } from './pool-options.js';

/** What a pool needs to open connections for one host. */
export interface ConnectionContext {
  readonly host: Host;
  readonly stats: ClusterStats;
  readonly breaker: CircuitBreaker;
  /** Connect timeout in ms (cluster connect_timeout; Envoy default 5 s, Istio 10 s). */
  readonly connectTimeoutMs: number;
  /** TLS origination, or null for plaintext. */
  readonly tls: UpstreamTls | null;
  /** The cluster's outlier detector (told about connect successes and failures), or null. */
  readonly outlier: OutlierDetector | null;
  /** Per-connection limits and timers. */
  readonly options: PoolOptions;
}

/** Marker property on sockets that completed the TCP handshake. */
export const CONNECTED = Symbol('mizzen.connected');

/** A socket marked once its handshake completed. */
type MarkedSocket = Socket & { [CONNECTED]?: boolean };

/** Opens a counted connection; `onClose` runs once when it closes. */
export function openConnection(ctx: ConnectionContext, http2: boolean, onClose: (() => void) | null): Socket {
  const { host, stats, breaker } = ctx;
  const tls = ctx.tls;
  const sock = tls
    ? tls.connect(host.address, host.port, http2)
    : connect({ host: host.address, port: host.port, noDelay: true });
  // The pool's user (ClientRequest, HTTP/2 session) attaches its own listener later; until then an
  // early error (refused, reset, TLS failure) must not be an unhandled 'error' event.
  sock.on('error', ignore);
  host.cxTotal++;
  host.cxActive++;
  stats.upstream_cx_total.inc();
  stats.upstream_cx_active.inc();
  (http2 ? stats.upstream_cx_http2_total : stats.upstream_cx_http1_total).inc();
  breaker.connectionOpened();
  let timer: NodeJS.Timeout | null = null;
  let timedOut = false;
  if (ctx.connectTimeoutMs > 0) {
    timer = setTimeout(() => {
      timer = null;
      timedOut = true;
      stats.upstream_cx_connect_timeout.inc();
      const err = new Error(`connect timeout after ${ctx.connectTimeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = CONNECT_TIMEOUT_CODE;
      sock.destroy(err);
    }, ctx.connectTimeoutMs);
  }
  // A TLS connection counts as connected once its handshake (and verification) succeeded, as in Envoy.
  sock.once(tls ? 'secureConnect' : 'connect', () => {
    if (timer) clearTimeout(timer);
    timer = null;
    (sock as MarkedSocket)[CONNECTED] = true;
    if (ctx.options.keepaliveTimeMs >= 0) sock.setKeepAlive(true, ctx.options.keepaliveTimeMs);
    if (ctx.outlier !== null) ctx.outlier.putLocalResult(host, LocalResult.ConnectSuccess);
  });
  sock.once('close', () => {
    if (timer) clearTimeout(timer);
    if (!(sock as MarkedSocket)[CONNECTED]) {
      stats.upstream_cx_connect_fail.inc();
      host.cxConnectFail++;
      if (ctx.outlier !== null)
        ctx.outlier.putLocalResult(host, timedOut ? LocalResult.Timeout : LocalResult.ConnectFailed);
    }
    host.cxActive--;
    stats.upstream_cx_active.dec();
    stats.upstream_cx_destroy.inc();
    stats.upstream_cx_rx_bytes_total.add(sock.bytesRead);
    stats.upstream_cx_tx_bytes_total.add(sock.bytesWritten);
    breaker.connectionClosed();
    if (onClose) onClose();
  });
  return sock;
}

function ignore(): void {}

/** True when the socket finished its TCP handshake at some point. */
export function wasConnected(sock: Socket | null | undefined): boolean {
  return !!sock && (sock as MarkedSocket)[CONNECTED] === true;
}
