// The router's per-request state (Envoy's router Filter instance): builds upstream headers once,
// runs attempts with retries/backoff/host re-selection, forwards the chosen response, and tunnels
// upgrades. All errors leave through ActiveRequest.sendLocalReply.
import type { Socket } from 'node:net';
import type { Cluster } from '../../../upstream/cluster.js';
import { LocalResult } from '../../../upstream/outlier/outlier-detector.js';
import type { HashResult } from '../../route/hash-policy.js';
import type { Host } from '../../../upstream/host.js';
import type { ActiveRequest, StreamHandler } from '../../active-request.js';
import { UpgradeDownstream } from '../../downstream/upgrade-downstream.js';
import { ProxyErrorCode, rescue } from '../../local-reply.js';
import { Flag } from '../../response-flags.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import type { RouteEntry, WeightedCluster } from '../../route/route-entry.js';
import { backoffMs, type RetryPolicy } from '../../route/retry-policy.js';
import { RequestBody } from './request-body.js';
import { ResetKind, retriesReset, retriesResponse } from './retry-state.js';
import { shadowHost, ShadowRequest } from './shadow.js';
import { UpstreamAttempt, type AttemptOwner } from './upstream-attempt.js';

const RESET_CODES: Record<ResetKind, ProxyErrorCode> = {
  [ResetKind.ConnectFailure]: ProxyErrorCode.ConnectFailure,
  [ResetKind.ConnectionTermination]: ProxyErrorCode.ConnectionTermination,
  [ResetKind.RemoteReset]: ProxyErrorCode.RemoteReset,
  [ResetKind.RefusedStream]: ProxyErrorCode.RefusedStream,
  [ResetKind.ProtocolError]: ProxyErrorCode.ProtocolError,
  [ResetKind.PerTryTimeout]: ProxyErrorCode.UpstreamTimeout,
};

/** Router state for one request routed to a cluster. */
export class RouterRequest implements StreamHandler, AttemptOwner {
  readonly body: RequestBody | null;
  private attempt: UpstreamAttempt | null = null;
  private tried: Host[] | null = null;
  private retries = 0;
  private retryHeld = false;
  private backoffTimer: NodeJS.Timeout | null = null;
  private forwarding = false;
  private finished = false;
  private readonly retry: RetryPolicy | null;
  private readonly path: string;
  private readonly authority: string;
  private readonly headers: HeaderMap;
  private tunnelUp: Socket | null = null;
  /** The route's hash key and generated session cookie, or null when the route has no hash policy. */
  private readonly hash: HashResult | null;
  /** Original destination `ip:port` for ORIGINAL_DST clusters, else null. */
  private readonly originalDst: string | null;

  constructor(
    private readonly req: ActiveRequest,
    private readonly route: RouteEntry,
    private readonly cluster: Cluster,
    private readonly weighted: WeightedCluster | null,
  ) {
    this.retry = route.retry !== null && route.retry.numRetries > 0 ? route.retry : null;
    this.body =
      req.body !== null
        ? new RequestBody(req.body, this.retry !== null || route.mirrors !== null, req)
        : null;
    const h = req.headers;
    // Header mutations, most specific first (Envoy's default order: weighted cluster, route, vhost, route config).
    weighted?.requestHeaders?.apply(h);
    route.requestHeaders?.apply(h);
    req.vhost?.requestHeaders?.apply(h);
    req.table?.requestHeaders?.apply(h);
    const rewritten = route.rewritePath(req);
    if (rewritten !== null) {
      if (h['x-envoy-original-path'] === undefined) h['x-envoy-original-path'] = req.path;
      this.path = rewritten;
    } else this.path = req.path;
    this.authority = weighted?.hostRewriteLiteral ?? route.hostRewriteLiteral ?? req.authority;
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    const expected = perTry > 0 && (req.timeoutMs === 0 || perTry < req.timeoutMs) ? perTry : req.timeoutMs;
    if (expected > 0) h['x-envoy-expected-rq-timeout-ms'] = String(expected);
    delete h['expect'];
    this.headers = h;
    if (route.hashPolicy !== null) {
      this.hash = { hash: -1, setCookie: null };
      route.hashPolicy.compute(req, this.hash);
    } else this.hash = null;
    this.originalDst = cluster.type === 'ORIGINAL_DST' ? cluster.originalDestination(req) : null;
  }

  /** Starts mirrors and the first attempt. */
  start(): void {
    if (this.route.mirrors !== null) this.startShadows();
    this.startAttempt();
  }

  // ---- attempts ----

  private startAttempt(): void {
    const req = this.req;
    const cluster = this.cluster;
    const host = cluster.pick({
      tried: this.tried,
      hash: this.hash !== null ? this.hash.hash : -1,
      originalDst: this.originalDst,
    });
    if (host === null) {
      cluster.stats.upstream_cx_none_healthy.inc();
      this.releaseRetry();
      this.replyForCluster(ProxyErrorCode.NoHealthyUpstream);
      return;
    }
    const pool = cluster.poolFor(host, req.protocol === 'HTTP/2');
    const n = this.retries + 1;
    req.attemptCount = n;
    req.upstreamHost = host.key;
    const authority = this.route.autoHostRewrite && host.hostname ? host.hostname : this.authority;
    let headers = this.headers;
    if (pool.protocol === 'http1' || req.vhost?.includeAttemptCount) {
      headers = { ...this.headers };
      if (pool.protocol === 'http1') headers['host'] = authority;
      if (req.vhost?.includeAttemptCount) headers['x-envoy-attempt-count'] = String(n);
    }
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    const a = new UpstreamAttempt(
      this,
      cluster,
      host,
      pool,
      n,
      req.method,
      this.path,
      headers,
      authority,
      req.scheme,
      perTry,
      // The HTTP/1.1 pool writes `connection: upgrade` and `upgrade` itself.
      pool.protocol === 'http1' ? req.upgrade : null,
    );
    this.attempt = a;
    (this.tried ??= []).push(host);
    a.begin();
  }

  /** A local reply on the cluster's behalf, charged to its upstream_rq_<code> as Envoy's router does. */
  private replyForCluster(code: ProxyErrorCode, retried = false): void {
    this.cluster.stats.codes.record(rescue(code).status);
    this.req.sendLocalReply(code, retried);
  }

  onAttemptOverflow(a: UpstreamAttempt): void {
    if (a !== this.attempt) return;
    this.attempt = null;
    this.releaseRetry();
    this.replyForCluster(ProxyErrorCode.Overflow);
  }

  onAttemptHeaders(a: UpstreamAttempt, status: number, headers: HeaderMap, endStream: boolean): void {
    if (a !== this.attempt || this.finished) return;
    const req = this.req;
    const cs = this.cluster.stats;
    cs.codes.record(status);
    if (status >= 500) a.host.rqError++;
    else a.host.rqSuccess++;
    if (this.cluster.outlier !== null) this.cluster.outlier.putHttpStatus(a.host, status);
    if (this.retry !== null && retriesResponse(this.retry, status, headers)) {
      if (this.scheduleRetry()) {
        a.discard(true);
        return;
      }
    }
    if (this.retries > 0 && status < 500) cs.upstream_rq_retry_success.inc();
    this.releaseRetry();
    this.body?.release();
    this.forwarding = true;
    req.responseCodeDetails = 'via_upstream';
    req.upstreamCluster = this.cluster.name;
    req.upstreamLocalAddress = a.localAddress;
    req.upstreamPrincipals = a.principals;
    cs.upstream_rq_time.record(a.serviceTimeMs);
    headers['x-envoy-upstream-service-time'] = String(Math.round(a.serviceTimeMs));
    if (req.vhost?.includeAttemptCountInResponse) headers['x-envoy-attempt-count'] = String(a.number);
    if (this.hash !== null && this.hash.setCookie !== null) appendSetCookie(headers, this.hash.setCookie);
    this.weighted?.responseHeaders?.apply(headers);
    this.route.responseHeaders?.apply(headers);
    req.vhost?.responseHeaders?.apply(headers);
    req.table?.responseHeaders?.apply(headers);
    req.encodeHeaders(status, headers, endStream, a.http2 && req.protocol === 'HTTP/2');
  }

  onAttemptData(a: UpstreamAttempt, chunk: Buffer): void {
    if (a !== this.attempt) return;
    if (!this.req.encodeData(chunk)) a.pause();
  }

  onAttemptEnd(a: UpstreamAttempt, trailers: HeaderMap | null): void {
    if (a !== this.attempt) return;
    this.finished = true;
    this.req.encodeEnd(trailers);
  }

  onAttemptReset(a: UpstreamAttempt, kind: ResetKind): void {
    if (a !== this.attempt || this.finished) return;
    const req = this.req;
    if (kind !== ResetKind.ConnectFailure) {
      a.host.rqError++;
      // Connect failures reach outlier detection from the pool; other resets and timeouts from here.
      const od = this.cluster.outlier;
      if (od !== null)
        od.putLocalResult(
          a.host,
          kind === ResetKind.PerTryTimeout ? LocalResult.Timeout : LocalResult.ConnectFailed,
        );
    }
    req.upstreamTransportFailureReason = kind === ResetKind.ConnectFailure ? 'connection failure' : '';
    if (this.forwarding) {
      // Response already started: nothing to retry; reset the downstream stream.
      req.responseFlags |= kind === ResetKind.ConnectionTermination ? Flag.UC : Flag.UR;
      this.finished = true;
      req.resetStream();
      return;
    }
    if (this.retry !== null && retriesReset(this.retry, kind) && this.scheduleRetry()) return;
    this.releaseRetry();
    if (kind === ResetKind.PerTryTimeout) {
      this.cluster.stats.upstream_rq_timeout.inc();
      this.replyForCluster(ProxyErrorCode.UpstreamTimeout);
      return;
    }
    this.replyForCluster(RESET_CODES[kind], this.retries > 0);
  }

  onAttemptUpgrade(
    a: UpstreamAttempt,
    status: number,
    headers: HeaderMap,
    socket: Socket,
    head: Buffer,
  ): void {
    const req = this.req;
    if (a !== this.attempt || this.finished || !(req.ds instanceof UpgradeDownstream)) {
      socket.destroy();
      return;
    }
    this.forwarding = true;
    req.clearTimeout();
    req.clearIdle();
    req.upstreamCluster = this.cluster.name;
    req.upstreamLocalAddress = a.localAddress;
    headers['x-envoy-upstream-service-time'] = String(Math.round(a.serviceTimeMs));
    const ds = req.ds;
    req.encodeHeaders(status, headers, false, false);
    const hs = req.hcm.stats;
    hs.downstream_cx_upgrades_total.inc();
    hs.downstream_cx_upgrades_active.inc();
    this.tunnelUp = socket;
    const down = ds.socket;
    ds.detach();
    if (head.length > 0) down.write(head);
    if (req.upgradeHead !== null && req.upgradeHead.length > 0) socket.write(req.upgradeHead);
    socket.on('error', () => {});
    down.pipe(socket);
    socket.pipe(down);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      hs.downstream_cx_upgrades_active.dec();
      socket.destroy();
      down.destroy();
      this.finished = true;
      req.bytesReceived = down.bytesRead;
      ds.bytesSent = down.bytesWritten;
      req.complete();
    };
    socket.once('close', close);
    down.once('close', close);
  }

  // ---- retries ----

  /** Schedules a retry if the policy, budget, body and circuit breaker allow it. */
  private scheduleRetry(): boolean {
    const p = this.retry!;
    const cs = this.cluster.stats;
    const req = this.req;
    if (req.done) return false;
    if (this.retries >= p.numRetries) {
      cs.upstream_rq_retry_limit_exceeded.inc();
      req.responseFlags |= Flag.URX;
      return false;
    }
    if (this.body !== null && (!this.body.replayable || req.upgrade !== null)) return false;
    if (!this.retryHeld) {
      if (!this.cluster.breaker.canRetry()) {
        cs.upstream_rq_retry_overflow.inc();
        return false;
      }
      this.cluster.breaker.retryStarted();
      this.retryHeld = true;
    }
    this.retries++;
    cs.upstream_rq_retry.inc();
    this.body?.detach();
    this.attempt = null;
    this.backoffTimer = setTimeout(this.onBackoff, backoffMs(p, this.retries));
    return true;
  }

  private readonly onBackoff = (): void => {
    this.backoffTimer = null;
    if (!this.req.done) this.startAttempt();
  };

  private releaseRetry(): void {
    if (this.retryHeld) {
      this.retryHeld = false;
      this.cluster.breaker.retryFinished();
    }
  }

  // ---- mirrors ----

  private startShadows(): void {
    const req = this.req;
    const shadowAuthority = shadowHost(this.authority);
    for (const m of this.route.mirrors!) {
      if (m.perMillion < 1_000_000 && Math.random() * 1_000_000 >= m.perMillion) continue;
      const cluster = req.snapshot.cluster(m.cluster);
      if (!cluster) continue;
      const host = cluster.pick({ tried: null });
      if (!host) continue;
      const pool = cluster.poolFor(host, req.protocol === 'HTTP/2');
      const authority = m.appendShadowSuffix ? shadowAuthority : this.authority;
      const headers: HeaderMap = { ...this.headers };
      headers['host'] = authority;
      new ShadowRequest(
        cluster,
        host,
        pool,
        req.method,
        this.path,
        authority,
        req.scheme,
        headers,
        this.body,
        req.timeoutMs,
      ).start();
    }
  }

  // ---- StreamHandler ----

  onRouteTimeout(): void {
    if (this.finished) return;
    const req = this.req;
    this.cluster.stats.upstream_rq_timeout.inc();
    const a = this.attempt;
    if (a !== null) {
      a.host.rqTimeout++;
      if (this.cluster.outlier !== null && !a.gotHeaders)
        this.cluster.outlier.putLocalResult(a.host, LocalResult.Timeout);
      a.discard(false);
    }
    this.cancelBackoff();
    this.releaseRetry();
    this.finished = true;
    if (this.forwarding) {
      req.responseFlags |= Flag.UT;
      req.resetStream();
    } else this.replyForCluster(ProxyErrorCode.UpstreamTimeout);
  }

  onDownstreamReset(): void {
    this.finished = true;
    this.cancelBackoff();
    if (this.attempt !== null) {
      if (!this.forwarding || !this.attempt.gotHeaders) this.cluster.stats.upstream_rq_cancelled.inc();
      this.attempt.discard(false);
    }
    this.tunnelUp?.destroy();
  }

  onDownstreamDrain(): void {
    this.attempt?.resume();
  }

  onDestroy(): void {
    this.finished = true;
    this.cancelBackoff();
    this.releaseRetry();
    if (this.attempt !== null && !this.attempt.discarded && this.req.responseFlags & Flag.DC)
      this.attempt.discard(false);
  }

  private cancelBackoff(): void {
    if (this.backoffTimer !== null) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = null;
    }
  }
}

/** Adds a Set-Cookie value, keeping the upstream's own cookies. */
function appendSetCookie(headers: HeaderMap, value: string): void {
  const v = headers['set-cookie'];
  headers['set-cookie'] = v === undefined ? [value] : Array.isArray(v) ? [...v, value] : [v, value];
}
