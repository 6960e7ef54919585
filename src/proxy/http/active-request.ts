// One downstream HTTP request inside an HCM (Envoy's ActiveStream): header preprocessing, route
// selection, the decode/encode filter chain, local replies, route timeout, stats and access log.
import { NO_PRINCIPALS, type UpstreamPrincipals } from '../upstream/pool/upstream-principals.js';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AccessLogContext } from './access-log/formatter.js';
import type { Downstream, DownstreamEvents } from './downstream/downstream.js';
import { FilterStatus } from './filters/filter.js';
import type { HcmConfig } from './hcm/hcm-config.js';
import { ServerHeader } from './hcm/hcm-config.js';
import {
  grpcMessageEncode,
  httpToGrpcStatus,
  ProxyErrorCode,
  rescue,
  type LocalReply,
} from './local-reply.js';
import { normalizeRequestPath } from './hcm/request-path.js';
import { Flag } from './response-flags.js';
import type { HeaderMap } from './route/header-mutation.js';
import { ActionKind, type RouteEntry, type RouteRequest } from './route/route-entry.js';
import type { RouteTable } from './route/route-table.js';
import type { VirtualHost } from './route/virtual-host.js';
import type { Snapshot } from '../config/snapshot.js';
import type { Span } from '../tracing/span.js';

/** Facts about the downstream connection a request arrived on. */
export interface ConnectionInfo {
  /** `ip:port` of the peer. */
  readonly remoteAddress: string;
  readonly remoteIp: string;
  /** `ip:port` the connection was accepted on. */
  readonly localAddress: string;
  readonly tls: boolean;
  /** TLS SNI, '' when none. */
  readonly sni: string;
  /**
   * The downstream peer's identity: the first URI SAN of a client certificate whose chain the
   * listener verified (e.g. `spiffe://cluster.local/ns/default/sa/sleep`), '' when the connection is
   * plaintext or the peer sent no verified certificate. Envoy's `source.principal` / `%DOWNSTREAM_PEER_URI_SAN%`.
   */
  readonly peerPrincipal: string;
}

/** The router's per-request state, notified of downstream events. */
export interface StreamHandler {
  onDownstreamReset(): void;
  onDownstreamDrain(): void;
  /** The route timeout fired while the router owned the request. */
  onRouteTimeout(): void;
  /** The request body ended (Envoy starts per-try timers then). */
  onDestroy(): void;
}

const INTERNAL_V4 = /^(10\.|127\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/;

/** One HTTP request/response exchange on the downstream side. */
export class ActiveRequest implements RouteRequest, AccessLogContext, DownstreamEvents {
  ds!: Downstream;
  /** :path without query (and fragment); after HCM path normalization once the request started. */
  pathOnly: string;
  readonly isGrpc: boolean;
  /** Lower-case Upgrade token (e.g. `websocket`) for HTTP/1.1 upgrade requests, else null. */
  readonly upgrade: string | null;
  /** The snapshot this request routes with (captured at start, kept for retries). */
  readonly snapshot: Snapshot;

  table: RouteTable | null = null;
  vhost: VirtualHost | null = null;
  route: RouteEntry | null = null;
  filterIndex = 0;
  /** Router state once the router filter took over, else null. */
  handler: StreamHandler | null = null;

  /**
   * Per-filter request state: one slot per HCM filter, indexed by the filter's `FilterContext.slot`,
   * null until that filter stores something. Keeps the request's shape stable whatever filters run.
   */
  readonly filterState: unknown[];

  /**
   * Envoy's dynamic metadata: filter namespace → struct, written by one filter for others and the
   * access log (e.g. `envoy.filters.http.jwt_authn` → `{ payload }` read by RBAC); null until set.
   */
  dynamicMetadata: Record<string, Record<string, unknown>> | null = null;

  /** This request's tracing span when the HCM traces, else null. */
  span: Span | null = null;

  /** Bytes that followed the headers of an HTTP/1.1 Upgrade request (node:http's `head`). */
  upgradeHead: Buffer | null = null;
  routeTimer: NodeJS.Timeout | null = null;
  /** HCM stream_idle_timeout timer (refreshed by activity), or null. */
  idleTimer: NodeJS.Timeout | null = null;
  /** Route timeout in ms (after the x-envoy-upstream-rq-timeout-ms override); 0 = none. */
  timeoutMs = 0;
  bodyEnded: boolean;

  // Response / access log state.
  responseCode = 0;
  responseFlags = 0;
  responseCodeDetails = '';
  connectionTerminationDetails = '';
  upstreamTransportFailureReason = '';
  responseHeaders: HeaderMap | null = null;
  trailers: HeaderMap | null = null;
  upstreamHost: string | null = null;
  upstreamCluster: string | null = null;
  upstreamLocalAddress: string | null = null;
  /** The upstream connection's mutual TLS identities (Istio's source-side principals). */
  upstreamPrincipals: UpstreamPrincipals = NO_PRINCIPALS;
  attemptCount = 0;
  bytesReceived = 0;
  /** Request head bytes (HTTP/1.x as received; HTTP/2 header names and values), set by the codec. */
  headerBytesReceived = 0;
  readonly startTime: number;
  private readonly startHr: number;
  private firstByteHr = -1;
  private requestEndHr = -1;
  private endHr = -1;
  done = false;
  private query: Map<string, string> | null = null;

  constructor(
    readonly hcm: HcmConfig,
    readonly conn: ConnectionInfo,
    readonly method: string,
    /** :path as received (with query). */
    public path: string,
    public authority: string,
    readonly scheme: string,
    /** Request headers without pseudo headers and without `host`. */
    readonly headers: HeaderMap,
    /** Request body, or null when the request has none (a buffering filter replaces it with its copy). */
    public body: Readable | null,
    readonly protocol: string,
    upgrade: string | null,
  ) {
    this.startTime = Date.now();
    this.startHr = performance.now();
    this.snapshot = hcm.ctx.source.current;
    this.filterState = new Array<unknown>(hcm.filters.length).fill(null);
    const q = path.indexOf('?');
    let p = q >= 0 ? path.slice(0, q) : path;
    const f = p.indexOf('#');
    if (f >= 0) p = p.slice(0, f);
    this.pathOnly = p;
    const ct = headers['content-type'];
    this.isGrpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    this.upgrade = upgrade;
    this.bodyEnded = body === null;
  }

  // ---- RouteRequest / HeaderSource ----

  pseudo(name: string): string | undefined {
    switch (name) {
      case ':method':
        return this.method;
      case ':path':
        return this.path;
      case ':authority':
        return this.authority;
      case ':scheme':
        return this.scheme;
      default:
        return undefined;
    }
  }

  queryParam(name: string): string | undefined {
    if (this.query === null) {
      this.query = new Map();
      const q = this.path.indexOf('?');
      if (q >= 0) {
        const params = new URLSearchParams(this.path.slice(q + 1));
        for (const [k, v] of params) if (!this.query.has(k)) this.query.set(k, v);
      }
    }
    return this.query.get(name);
  }

  // ---- lifecycle ----

  /** Runs the request: header policies, route selection, filters. Never throws. */
  start(): void {
    this.countStart();
    if (this.hcm.streamIdleTimeoutMs > 0)
      this.idleTimer = setTimeout(idleTimeout, this.hcm.streamIdleTimeoutMs, this);
    if (this.body !== null) {
      (this.body as Owned)[REQUEST] = this;
      this.body.once('end', bodyEnd);
    } else this.requestEndHr = performance.now();
    try {
      // Normalization precedes every filter and the route lookup (Envoy's order).
      if (!normalizeRequestPath(this)) return;
      this.preprocessHeaders();
      if (this.hcm.tracer !== null) this.span = this.hcm.tracer.startSpan(this);
      this.table = this.hcm.routeTable();
      if (this.table !== null) {
        const m = this.table.route(this);
        if (m !== null) {
          this.vhost = m.vhost;
          this.route = m.route;
        } else this.vhost = this.table.virtualHost(this.authority);
      }
      if (this.route !== null && this.route.kind === ActionKind.Route) this.setupTimeout();
      this.continueDecoding();
    } catch (e) {
      this.internalError(e);
    }
  }

  /** Answers a request the codec refused (a limit, a missing Host, …): counted and logged like any other. */
  reject(code: ProxyErrorCode): void {
    this.countStart();
    this.sendLocalReply(code);
  }

  private countStart(): void {
    const st = this.hcm.stats;
    st.downstream_rq_total.inc();
    st.downstream_rq_active.inc();
    (this.protocol === 'HTTP/2' ? st.downstream_rq_http2_total : st.downstream_rq_http1_total).inc();
  }

  /** Runs the remaining decode filters (called again by a filter that stopped). */
  continueDecoding(): void {
    const filters = this.hcm.filters;
    while (!this.done && this.filterIndex < filters.length) {
      const f = filters[this.filterIndex++];
      if (f.decodeHeaders(this) === FilterStatus.Stop) return;
    }
  }

  private preprocessHeaders(): void {
    const h = this.headers;
    const hcm = this.hcm;
    if (hcm.useRemoteAddress && !hcm.skipXffAppend) {
      const xff = h['x-forwarded-for'];
      const ip = this.conn.remoteIp;
      h['x-forwarded-for'] = xff === undefined ? ip : `${Array.isArray(xff) ? xff.join(',') : xff},${ip}`;
    }
    if (hcm.useRemoteAddress || h['x-forwarded-proto'] === undefined) {
      h['x-forwarded-proto'] = this.conn.tls ? 'https' : 'http';
    }
    hcm.xfcc.apply(h, this.conn.tls, this.conn.peerPrincipal);
    const internal = INTERNAL_V4.test(this.conn.remoteIp) || this.conn.remoteIp === '::1';
    if (hcm.generateRequestId) {
      const rid = h['x-request-id'];
      if (rid === undefined || (hcm.useRemoteAddress && !internal && !hcm.preserveExternalRequestId)) {
        h['x-request-id'] = randomUUID();
      }
    }
    if (hcm.useRemoteAddress && !internal) {
      // Edge requests may not steer Envoy with x-envoy-* headers.
      for (const k of Object.keys(h)) if (k.startsWith('x-envoy-')) delete h[k];
    }
  }

  private setupTimeout(): void {
    let t = this.route!.timeoutMs;
    const hv = this.headers['x-envoy-upstream-rq-timeout-ms'];
    if (hv !== undefined) {
      delete this.headers['x-envoy-upstream-rq-timeout-ms'];
      const n = Number(hv);
      if (Number.isInteger(n) && n >= 0) t = n;
    }
    this.timeoutMs = t;
    if (t > 0 && this.bodyEnded && this.upgrade === null) this.armTimeout();
  }

  private armTimeout(): void {
    if (this.routeTimer === null && this.timeoutMs > 0 && !this.done) {
      this.routeTimer = setTimeout(routeTimeout, this.timeoutMs, this);
    }
  }

  /** Cancels the route timeout (e.g. once a WebSocket is upgraded). */
  clearTimeout(): void {
    if (this.routeTimer !== null) {
      clearTimeout(this.routeTimer);
      this.routeTimer = null;
    }
  }

  /** Timer/event entry point (shared module-level trampoline, no per-request closure). */
  onBodyEnd(): void {
    this.bodyEnded = true;
    this.requestEndHr = performance.now();
    if (this.timeoutMs > 0 && this.upgrade === null) this.armTimeout();
  }

  /** Notes stream activity (request or response bytes): restarts the stream idle timer. */
  touch(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
  }

  /** Stops the stream idle timer (an upgraded tunnel is no longer an HTTP stream). */
  clearIdle(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  /** Timer/event entry point (shared module-level trampoline, no per-request closure). */
  onIdle(): void {
    this.idleTimer = null;
    if (this.done) return;
    // Envoy: 408 "stream timeout" before the response started, a reset after; the upstream is cancelled.
    if (this.handler !== null) this.handler.onDownstreamReset();
    this.sendLocalReply(ProxyErrorCode.StreamIdleTimeout);
  }

  /** Timer/event entry point (shared module-level trampoline, no per-request closure). */
  onRouteTimeout(): void {
    this.routeTimer = null;
    if (this.done) return;
    if (this.handler !== null) {
      this.handler.onRouteTimeout();
      return;
    }
    // Still in a filter (e.g. a fault delay): the route timeout bounds it too.
    this.sendLocalReply(ProxyErrorCode.UpstreamTimeout);
  }

  // ---- response path ----

  /** Sends response headers through the encode filters. */
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, waitTrailers: boolean): void {
    if (this.done) return;
    this.responseCode = status;
    this.responseHeaders = headers;
    const enc = this.hcm.encodeFilters;
    if (enc !== null) for (let i = 0; i < enc.length; i++) enc[i].encodeHeaders!(this, status, headers);
    switch (this.hcm.serverHeader) {
      case ServerHeader.Overwrite:
        headers['server'] = this.hcm.serverName;
        break;
      case ServerHeader.AppendIfAbsent:
        if (headers['server'] === undefined) headers['server'] = this.hcm.serverName;
        break;
    }
    this.firstByteHr = performance.now();
    try {
      this.ds.respond(status, headers, endStream, waitTrailers);
    } catch (e) {
      this.internalError(e);
      return;
    }
    if (endStream) this.complete();
  }

  /** Writes response body; false means wait for the downstream to drain. */
  encodeData(chunk: Buffer): boolean {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    return this.ds.write(chunk);
  }

  /** Ends the response (with trailers for HTTP/2). */
  encodeEnd(trailers: HeaderMap | null): void {
    if (this.done) return;
    this.trailers = trailers;
    this.ds.end(trailers);
    this.complete();
  }

  /** Sends a complete response generated by the proxy (direct response, redirect, CORS preflight). */
  sendResponse(status: number, headers: HeaderMap, body: string | null): void {
    if (this.done) return;
    if (this.ds.headersSent) {
      this.resetStream();
      return;
    }
    if (body !== null && body.length > 0) {
      const buf = Buffer.from(body);
      if (headers['content-type'] === undefined) headers['content-type'] = 'text/plain';
      headers['content-length'] = String(buf.length);
      this.encodeHeaders(status, headers, false, false);
      if (this.method !== 'HEAD') this.encodeData(buf);
      this.encodeEnd(null);
    } else {
      if (status !== 204 && status !== 304 && headers['content-length'] === undefined)
        headers['content-length'] = '0';
      this.encodeHeaders(status, headers, true, false);
    }
  }

  /**
   * The one path for proxy-generated errors: maps the code to status/body/flag/details; gRPC callers
   * get a trailers-only response with grpc-status. After response headers went out it resets instead.
   */
  sendLocalReply(code: ProxyErrorCode, retried = false, status = 0, grpcStatus = -1): void {
    this.sendReply(rescue(code, retried, status), grpcStatus);
  }

  /** Sends an already resolved local reply. */
  sendReply(r: LocalReply, grpcStatus = -1): void {
    if (this.done) return;
    this.responseFlags |= r.flag;
    this.responseCodeDetails = r.details;
    if (this.ds.headersSent) {
      this.resetStream();
      return;
    }
    const headers: HeaderMap = {};
    if (r.overloaded) headers['x-envoy-overloaded'] = 'true';
    if (this.isGrpc) {
      headers['content-type'] = 'application/grpc';
      headers['grpc-status'] = String(grpcStatus >= 0 ? grpcStatus : httpToGrpcStatus(r.status));
      if (r.body) headers['grpc-message'] = grpcMessageEncode(r.body);
      headers['content-length'] = '0';
      this.encodeHeaders(200, headers, true, false);
      return;
    }
    this.sendResponse(r.status, headers, r.body);
  }

  /** Aborts the downstream stream (response already started). */
  resetStream(): void {
    if (this.done) return;
    this.hcm.stats.downstream_rq_tx_reset.inc();
    this.ds.reset();
    this.complete();
  }

  private internalError(e: unknown): void {
    // Malformed input or a bug must end this stream only, never the process.
    this.responseCodeDetails = `internal_error: ${String((e as Error)?.message ?? e).slice(0, 200)}`;
    if (!this.done && this.ds && !this.ds.headersSent) this.sendResponse(500, {}, 'internal error');
    else this.resetStream();
  }

  // ---- downstream events ----

  onDownstreamReset(): void {
    if (this.done) return;
    this.responseFlags |= Flag.DC;
    this.hcm.stats.downstream_rq_rx_reset.inc();
    if (this.handler !== null) this.handler.onDownstreamReset();
    this.complete();
  }

  onDownstreamDrain(): void {
    if (this.handler !== null) this.handler.onDownstreamDrain();
  }

  /** Finishes the exchange once: timers, filter cleanup, stats, access log. */
  complete(): void {
    if (this.done) return;
    this.done = true;
    this.endHr = performance.now();
    this.clearTimeout();
    this.clearIdle();
    const des = this.hcm.destroyFilters;
    if (des !== null) for (let i = 0; i < des.length; i++) des[i].onDestroy!(this);
    if (this.handler !== null) this.handler.onDestroy();
    const st = this.hcm.stats;
    st.downstream_rq_active.dec();
    st.downstream_rq_completed.inc();
    if (this.responseCode > 0) st.codes.record(this.responseCode);
    st.downstream_rq_time.record(this.endHr - this.startHr);
    if (this.span !== null) this.hcm.tracer!.finishSpan(this, this.span);
    const logs = this.hcm.accessLogs;
    if (logs !== null) for (let i = 0; i < logs.length; i++) logs[i].log(this);
  }

  // ---- AccessLogContext ----

  reqHeader(name: string): string | undefined {
    if (name.charCodeAt(0) === 58) return this.pseudo(name);
    const v = this.headers[name];
    return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
  }

  respHeader(name: string): string | undefined {
    const v = this.responseHeaders?.[name];
    return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
  }

  trailer(name: string): string | undefined {
    const v = this.trailers?.[name];
    return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
  }

  get bytesSent(): number {
    return this.ds ? this.ds.bytesSent : 0;
  }
  /** Response bytes on the wire, head included (Istio's istio_response_bytes). */
  get wireBytesSent(): number {
    return this.ds ? this.ds.wireBytesSent : 0;
  }
  get durationMs(): number {
    return (this.endHr >= 0 ? this.endHr : performance.now()) - this.startHr;
  }
  get responseDurationMs(): number {
    return this.firstByteHr < 0 ? -1 : this.firstByteHr - this.startHr;
  }
  get requestDurationMs(): number {
    return this.requestEndHr < 0 ? -1 : this.requestEndHr - this.startHr;
  }
  get downstreamLocalAddress(): string {
    return this.conn.localAddress;
  }
  get downstreamRemoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get requestedServerName(): string {
    return this.conn.sni;
  }
  get routeName(): string {
    return this.route?.name ?? '';
  }
}

const REQUEST = Symbol('mizzen.request');
/** The request body stream carries its request, so the 'end' listener is one shared function. */
type Owned = { [REQUEST]?: ActiveRequest };
function bodyEnd(this: unknown): void {
  (this as Owned)[REQUEST]!.onBodyEnd();
}
function routeTimeout(r: ActiveRequest): void {
  r.onRouteTimeout();
}
function idleTimeout(r: ActiveRequest): void {
  r.onIdle();
}
