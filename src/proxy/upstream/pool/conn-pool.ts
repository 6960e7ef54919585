// The connection-pool seam shared by the HTTP/1.1 and HTTP/2 pools (one pool per cluster host).
import type { ClientRequest, RequestOptions } from 'node:http';
import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';

/** A request waiting for pool capacity. */
export interface PoolWaiter {
  /** Capacity was granted to a queued waiter: send the request now. */
  onPoolReady(): void;
}

/** Result of {@link ConnPool.acquire}. */
export const enum Acquire {
  /** Capacity granted; send the request now. */
  Ready = 0,
  /** Queued as a pending request; `onPoolReady` will be called. */
  Queued = 1,
  /** Circuit breaker overflow (503 UO). */
  Overflow = 2,
}

/** A per-host connection pool. */
export interface ConnPool {
  /** 'http1' or 'http2': how requests are sent. */
  readonly protocol: 'http1' | 'http2';
  /** Asks for capacity to send one request (circuit breakers are checked here). */
  acquire(w: PoolWaiter): Acquire;
  /** Removes a queued waiter (request cancelled while pending). */
  cancel(w: PoolWaiter): void;
  /** Returns capacity taken by `acquire` (request finished or failed). */
  release(): void;
  /** HTTP/1.1: starts a request on a pooled keep-alive connection. */
  requestH1(opts: RequestOptions): ClientRequest;
  /** HTTP/2: opens a stream. Throws when the session cannot take a stream. */
  requestH2(headers: OutgoingHttpHeaders, endStream: boolean): ClientH2Result;
  /** Stops handing out connections; idle ones close now, busy ones after their request. */
  drain(): void;
}

/** A stream plus whether its session ever connected (to tell connect failures from resets). */
export interface ClientH2Result {
  stream: ClientHttp2Stream;
  /** Returns true once the session's TCP connection was established. */
  connected: () => boolean;
}

/** Error code Mizzen gives a connect attempt that hit the cluster's connect_timeout. */
export const CONNECT_TIMEOUT_CODE = 'ECONNTIMEOUT';
