// The connection-pool seam shared by the HTTP/1.1 and HTTP/2 pools (one pool per cluster host).
import type { UpstreamPrincipals } from './upstream-principals.js';
import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

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
  /** HTTP/1.1: sends a request on a pooled keep-alive connection; events go to `x`. */
  dispatchH1(x: H1Exchange, req: H1Request): H1Stream;
  /** HTTP/2: opens a stream. Throws when the session cannot take a stream. */
  requestH2(headers: OutgoingHttpHeaders, endStream: boolean): ClientH2Result;
  /** Stops handing out connections; idle ones close now, busy ones after their request. */
  drain(): void;
}

/** One HTTP/1.1 request as the pool sends it. */
export interface H1Request {
  method: string;
  path: string;
  /** Request headers including `host`; no hop-by-hop headers (`connection`, `upgrade`, ...). */
  headers: Record<string, string | string[] | undefined>;
  /** Request body, or null for none. */
  body: Readable | null;
  /** The `Upgrade` protocol to ask for (the pool adds `connection: upgrade`), or null. */
  upgrade: string | null;
}

/** Receives one HTTP/1.1 exchange's events (an upstream attempt or a mirror). Must never throw. */
export interface H1Exchange {
  /** Final response head (1xx are skipped); `raw` is the flat [name, value, ...] list as received. */
  onH1Head(status: number, raw: string[], s: H1Stream): void;
  /** A body chunk. */
  onH1Data(chunk: Buffer): void;
  /** The response ended completely (the connection is back in the pool). */
  onH1Complete(): void;
  /** The exchange failed (connect failure, reset, parse error, abort); the connection is gone. */
  onH1Error(err: NodeJS.ErrnoException, s: H1Stream): void;
  /** The server switched protocols; `socket` left the pool and belongs to the caller now. */
  onH1Upgrade(status: number, raw: string[], socket: Socket, s: H1Stream): void;
}

/** The caller's handle on one HTTP/1.1 exchange. */
export interface H1Stream {
  /** True when the connection carried an earlier request (a stale keep-alive may explain a reset). */
  readonly reused: boolean;
  /** True once the connection's TCP (and TLS) handshake completed. */
  readonly connected: boolean;
  /** `ip:port` of our side of the connection, or null before it connected. */
  readonly localAddress: string | null;
  /** The connection's mutual TLS identities (NO_PRINCIPALS when plaintext or before it connected). */
  readonly principals: UpstreamPrincipals;
  /** Resets the exchange (its connection is closed); no further events are delivered. */
  abort(): void;
  /** Stops reading the response (downstream is backed up). */
  pause(): void;
  /** Resumes reading the response. */
  resume(): void;
}

/** A stream plus whether its session ever connected (to tell connect failures from resets). */
export interface ClientH2Result {
  stream: ClientHttp2Stream;
  /** Returns true once the session's TCP connection was established. */
  connected: () => boolean;
  /** The session's mutual TLS identities, once its handshake finished. */
  principals: () => UpstreamPrincipals;
}

/** Error code Mizzen gives a connect attempt that hit the cluster's connect_timeout. */
export const CONNECT_TIMEOUT_CODE = 'ECONNTIMEOUT';
