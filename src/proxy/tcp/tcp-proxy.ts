// envoy.filters.network.tcp_proxy: forwards a downstream connection to a host of a (weighted) cluster.
import type { envoy_extensions_filters_network_tcp_proxy_v3_TcpProxy as TcpProxyMessage } from '../../xds/envoy-types.js';
import { upstreamPrincipals } from '../upstream/pool/upstream-principals.js';
import { LocalResult } from '../upstream/outlier/outlier-detector.js';
import { connect, type Socket } from 'node:net';
import type { AccessLogContext } from '../http/access-log/formatter.js';
import { AccessLog, compileAccessLogs } from '../http/access-log/access-log.js';
import { Flag } from '../http/response-flags.js';
import type { ConnectionInfo } from '../http/active-request.js';
import type { SnapshotSource } from '../config/snapshot.js';
import type { Counter, Gauge, StatsStore } from '../stats/stats-store.js';
import { durationMs, u32 } from '../util/values.js';
import { NetworkRbac } from './network-rbac.js';
import type { NetworkExtAuthz } from './network-ext-authz.js';
import type { DynamicMetadata } from '../rbac/value-matcher.js';
import type { IstioTcpStats, IstioTcpConnection } from './istio-tcp-stats.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { NodeInfo } from '../http/filters/filter.js';
import type { PeerInfo } from '../http/filters/istio-stats/peer-metadata.js';
import {
  exchangeBytesOf,
  ExchangeOutcome,
  type ExchangeResult,
  type MetadataExchange,
} from './metadata-exchange/metadata-exchange.js';

/** How long a closed upstream's last bytes may take to reach the client before the connection is cut (ms). */
const FLUSH_TIMEOUT_MS = 10_000;

/** A compiled TcpProxy config. */
export class TcpProxyConfig {
  readonly statPrefix: string;
  readonly cluster: string | null;
  readonly weighted: ReadonlyArray<{ name: string; weight: number }> | null;
  private readonly totalWeight: number;
  /** Idle timeout in ms (Envoy default 1 h); 0 disables. */
  readonly idleTimeoutMs: number;
  /** max_downstream_connection_duration in ms (Istio: DestinationRule tcp.maxConnectionDuration); 0: none. */
  readonly maxDurationMs: number;
  readonly maxConnectAttempts: number;
  readonly accessLogs: AccessLog[] | null;
  /** Network RBAC and ext_authz filters in front of the proxy, in listed order, or null. */
  readonly checks: readonly (NetworkRbac | NetworkExtAuthz)[] | null;
  readonly cxTotal: Counter;
  readonly cxNoRoute: Counter;
  readonly connectFail: Counter;
  readonly idleTimeout: Counter;
  readonly maxDurationReached: Counter;
  readonly cxActive: Gauge;

  constructor(
    c: TcpProxyMessage,
    store: StatsStore,
    readonly source: SnapshotSource,
    defaultLogs: AccessLog[] | null,
    /** envoy.filters.network.rbac / ext_authz filters listed before this one, run in order on each connection. */
    checks: readonly (NetworkRbac | NetworkExtAuthz)[] = [],
    /** Istio's TCP metrics (network istio.stats before this filter), or null. */
    readonly istioStats: IstioTcpStats | null = null,
    /** istio.metadata_exchange listed before this filter (downstream exchange), or null. */
    readonly exchange: MetadataExchange | null = null,
    /** The proxy's node: what it sends in a metadata exchange (downstream or upstream). */
    private readonly node: NodeInfo | null = null,
  ) {
    this.checks = checks.length > 0 ? checks : null;
    this.statPrefix = c.statPrefix ?? '';
    this.cluster = c.cluster !== undefined ? c.cluster : null;
    const ws = c.weightedClusters
      ? (c.weightedClusters.clusters ?? []).map((w) => ({
          name: w.name ?? '',
          weight: Number(w.weight ?? 0),
        }))
      : null;
    this.weighted = ws && ws.length > 0 ? ws : null;
    this.totalWeight = ws ? ws.reduce((a, w) => a + w.weight, 0) : 0;
    if (this.cluster === null && this.weighted === null)
      throw new Error('tcp_proxy needs cluster or weighted_clusters');
    this.idleTimeoutMs = durationMs(c.idleTimeout, 3_600_000);
    this.maxDurationMs = durationMs(c.maxDownstreamConnectionDuration, 0);
    this.maxConnectAttempts = Math.max(1, u32(c.maxConnectAttempts, 1));
    this.accessLogs = compileAccessLogs(c.accessLog) ?? defaultLogs;
    const s = store.scope(`tcp.${this.statPrefix}.`, 'tcp.', [['envoy_tcp_prefix', this.statPrefix]]);
    this.cxTotal = s.counter('downstream_cx_total');
    this.cxNoRoute = s.counter('downstream_cx_no_route');
    this.connectFail = s.counter('upstream_connect_fail');
    this.idleTimeout = s.counter('idle_timeout');
    this.maxDurationReached = s.counter('max_downstream_connection_duration_reached');
    this.cxActive = s.gauge('downstream_cx_active');
  }

  /** This proxy's exchange bytes (encoded on first use, once per node). */
  get exchangeBytes(): Buffer {
    return exchangeBytesOf(this.node);
  }

  /** The cluster name for a new connection (weighted pick when configured). */
  pickCluster(): string {
    if (this.weighted === null) return this.cluster!;
    let r = Math.random() * this.totalWeight;
    for (const w of this.weighted) if ((r -= w.weight) < 0) return w.name;
    return this.weighted[this.weighted.length - 1].name;
  }

  /** Proxies one accepted connection. */
  handleConnection(socket: Socket, info: ConnectionInfo): void {
    new TcpSession(this, socket, info).start();
  }
}

/** One proxied TCP connection. */
class TcpSession implements AccessLogContext {
  readonly startTime = Date.now();
  private readonly startHr = performance.now();
  private endHr = -1;
  private up: Socket | null = null;
  private cluster: Cluster | null = null;
  private host: Host | null = null;
  private attempts = 0;
  private done = false;
  /** Istio TCP metric series once the upstream connected, else null. */
  private series: IstioTcpConnection | null = null;
  /** True once the upstream is connected (and its TLS checks passed). */
  private upConnected = false;
  /** Metadata exchanges still reading the peer's header, downstream and upstream. */
  private downExchanging = false;
  private upExchanging = false;
  /** What each exchange read (null: none ran). */
  private downExchange: ExchangeResult | null = null;
  private upExchange: ExchangeResult | null = null;
  /** The downstream exchange was refused: the session only flushes and closes. */
  private refused = false;
  /** Closes the connection at max_downstream_connection_duration, or null. */
  private maxTimer: NodeJS.Timeout | null = null;
  responseFlags = 0;
  upstreamHost: string | null = null;
  upstreamCluster: string | null = null;
  upstreamLocalAddress: string | null = null;
  readonly protocol = '';
  readonly responseCode = 0;
  readonly responseCodeDetails = '';
  connectionTerminationDetails = '';
  upstreamTransportFailureReason = '';
  readonly routeName = '';
  readonly responseDurationMs = -1;
  readonly requestDurationMs = -1;

  constructor(
    private readonly cfg: TcpProxyConfig,
    private readonly down: Socket,
    private readonly info: ConnectionInfo,
  ) {}

  start(): void {
    const cfg = this.cfg;
    cfg.cxTotal.inc();
    cfg.cxActive.inc();
    this.down.on('error', () => {});
    this.down.pause();
    // Half-close passes through, as in Envoy: the client's FIN reaches the upstream while the way back
    // stays open for its answer (e.g. `nc -N`).
    this.down.allowHalfOpen = true;
    this.down.once('close', () => this.close());
    if (cfg.maxDurationMs > 0) {
      // Counted from the downstream connection's start, as Envoy does; both sides are closed.
      this.maxTimer = setTimeout(() => {
        this.maxTimer = null;
        if (this.done) return;
        cfg.maxDurationReached.inc();
        this.connectionTerminationDetails = 'max_downstream_connection_duration_reached';
        this.close();
      }, cfg.maxDurationMs);
      this.maxTimer.unref();
    }
    const mx = cfg.exchange;
    // Istio runs the exchange first; it goes on while the checks run and the upstream connects.
    if (mx !== null && mx.applies(this.down)) {
      this.downExchanging = true;
      mx.run(this.down, cfg.exchangeBytes, (r) => this.exchanged(r, true));
    }
    if (cfg.checks !== null) this.runChecks(cfg.checks, 0, {});
    else this.route();
  }

  /** Runs the network RBAC and ext_authz filters from `i` on; the connection proceeds if all pass. */
  private runChecks(
    checks: readonly (NetworkRbac | NetworkExtAuthz)[],
    from: number,
    md: DynamicMetadata,
  ): void {
    for (let i = from; i < checks.length; i++) {
      const c = checks[i];
      if (c instanceof NetworkRbac) {
        const denied = c.check(this.info, md);
        if (denied === '') continue;
        this.connectionTerminationDetails = denied;
        return this.close();
      }
      if (!c.applies(md)) continue;
      // The client's bytes wait (paused) while the authorizer answers; a client gone meanwhile ended the session.
      void c.check(this.info).then((r) => {
        if (this.done) return;
        if (r === 'ok' || r === 'failure_mode_allowed') return this.runChecks(checks, i + 1, md);
        this.responseFlags |= Flag.UAEX;
        this.connectionTerminationDetails = r === 'denied' ? 'ext_authz_denied' : 'ext_authz_error';
        this.close();
      });
      return;
    }
    this.route();
  }

  /** Picks the cluster and connects upstream. */
  private route(): void {
    const cfg = this.cfg;
    const name = cfg.pickCluster();
    this.upstreamCluster = name;
    const cluster = cfg.source.current.cluster(name);
    if (!cluster) {
      cfg.cxNoRoute.inc();
      this.responseFlags |= Flag.NC;
      return this.close();
    }
    this.cluster = cluster;
    this.connect();
  }

  private connect(): void {
    const cluster = this.cluster!;
    // ORIGINAL_DST (PassthroughCluster): where the client meant to go, the connection's local address
    // (the original destination when the listener recovered it from a redirect).
    const originalDst = cluster.type === 'ORIGINAL_DST' ? this.info.localAddress : null;
    const host = cluster.pick({ tried: this.host ? [this.host] : null, originalDst });
    if (!host) {
      cluster.stats.upstream_cx_none_healthy.inc();
      this.responseFlags |= Flag.UH;
      return this.close();
    }
    if (!cluster.breaker.canConnect()) {
      cluster.stats.upstream_cx_overflow.inc();
      this.responseFlags |= Flag.UO;
      return this.close();
    }
    this.attempts++;
    this.host = host;
    this.upstreamHost = host.key;
    const st = cluster.stats;
    const tls = cluster.tlsFor(host);
    const up = tls
      ? tls.connect(host.address, host.port, false)
      : connect({ host: host.address, port: host.port, noDelay: true, allowHalfOpen: true });
    this.up = up;
    host.cxTotal++;
    host.cxActive++;
    st.upstream_cx_total.inc();
    st.upstream_cx_active.inc();
    cluster.breaker.connectionOpened();
    let connected = false;
    const timer =
      cluster.connectTimeoutMs > 0
        ? setTimeout(() => up.destroy(new Error('connect timeout')), cluster.connectTimeoutMs)
        : null;
    // With TLS origination the upstream is usable once the handshake and its checks passed.
    up.once(tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (timer) clearTimeout(timer);
      if (cluster.outlier !== null) cluster.outlier.putLocalResult(host, LocalResult.ConnectSuccess);
      this.upstreamLocalAddress = `${up.localAddress}:${up.localPort}`;
      if (this.done) return up.destroy();
      // upstream_connection_options.tcp_keepalive (DestinationRule tcpKeepalive), as for HTTP pools.
      if (cluster.poolOptions.keepaliveTimeMs >= 0)
        up.setKeepAlive(true, cluster.poolOptions.keepaliveTimeMs);
      this.upConnected = true;
      // Envoy's idle timer starts with the upstream connection: a peer that negotiated the exchange
      // and then sends nothing is closed like any idle connection.
      if (this.cfg.idleTimeoutMs > 0) {
        up.setTimeout(this.cfg.idleTimeoutMs, () => {
          this.cfg.idleTimeout.inc();
          this.close();
        });
      }
      const mx = cluster.metadataExchange;
      if (mx !== null && mx.applies(up)) {
        this.upExchanging = true;
        mx.run(up, this.cfg.exchangeBytes, (r) => this.exchanged(r, false));
      } else this.forward();
    });
    up.on('error', () => {});
    up.once('close', () => {
      if (timer) clearTimeout(timer);
      host.cxActive--;
      st.upstream_cx_active.dec();
      st.upstream_cx_destroy.inc();
      st.upstream_cx_rx_bytes_total.add(up.bytesRead);
      st.upstream_cx_tx_bytes_total.add(up.bytesWritten);
      cluster.breaker.connectionClosed();
      if (!connected) {
        st.upstream_cx_connect_fail.inc();
        host.cxConnectFail++;
        this.cfg.connectFail.inc();
        // Istio: for TCP services connect failures are the errors outlier detection counts.
        if (cluster.outlier !== null) cluster.outlier.putLocalResult(host, LocalResult.ConnectFailed);
        if (!this.done && this.attempts < this.cfg.maxConnectAttempts) return this.connect();
        this.responseFlags |= Flag.UF;
        this.upstreamTransportFailureReason = 'connection failure';
        return this.close();
      }
      this.flushAndClose();
    });
  }

  /** A metadata exchange finished reading the peer (downstream or upstream side). */
  private exchanged(r: ExchangeResult, downstream: boolean): void {
    if (this.done) return;
    if (downstream) {
      this.downExchanging = false;
      this.downExchange = r;
    } else {
      this.upExchanging = false;
      this.upExchange = r;
    }
    // More data than the bound: not an Istio peer; the connection ends rather than buffer it.
    if (r.outcome === ExchangeOutcome.Refused) {
      this.connectionTerminationDetails = 'metadata_exchange_too_large';
      if (!downstream) return this.close();
      // Our own exchange (already written) still reaches the client; its further bytes stay unread.
      this.refused = true;
      return this.flushAndClose();
    }
    this.forward();
  }

  /** Starts proxying once the upstream is connected and no exchange is still reading. */
  private forward(): void {
    const up = this.up;
    if (this.done || this.refused || up === null || !this.upConnected) return;
    if (this.downExchanging || this.upExchanging) return;
    const down = this.down;
    const dx = this.downExchange;
    const ux = this.upExchange;
    const istio = this.cfg.istioStats;
    if (istio !== null) {
      // The peer: the client (downstream exchange) for the destination reporter, the server otherwise.
      const peer: PeerInfo | null = (istio.inbound ? dx : ux)?.peer ?? null;
      // Exchange bytes on the downstream connection are not the app's (Istio strips them before stats).
      const sentOffset = dx !== null ? this.cfg.exchangeBytes.length : 0;
      this.series = istio.opened(
        this.cluster!.name,
        this.info.peerPrincipal,
        down,
        peer,
        sentOffset,
        dx?.consumed ?? 0,
        upstreamPrincipals(up),
      );
    }
    // Bytes read past (or instead of) an exchange go first; a side that ended meanwhile is ended.
    if (dx !== null && dx.rest.length > 0) up.write(dx.rest);
    if (dx !== null && dx.ended) up.end();
    else down.pipe(up);
    if (ux !== null && ux.rest.length > 0) down.write(ux.rest);
    if (ux !== null && ux.ended) down.end();
    else up.pipe(down);
    down.resume();
  }

  /** The upstream closed: what it sent still reaches the client (flush), then the session ends. */
  private flushAndClose(): void {
    const down = this.down;
    if (this.done || down.destroyed || down.writableFinished) return this.close();
    down.end();
    down.once('finish', () => this.close());
    // A client that stops reading must not hold the session forever.
    setTimeout(() => this.close(), FLUSH_TIMEOUT_MS).unref();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.endHr = performance.now();
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.cfg.cxActive.dec();
    this.up?.destroy();
    this.down.destroy();
    if (this.series !== null) this.cfg.istioStats!.closed(this.series);
    const logs = this.cfg.accessLogs;
    if (logs !== null) for (const l of logs) l.log(this);
  }

  reqHeader(): undefined {
    return undefined;
  }
  respHeader(): undefined {
    return undefined;
  }
  trailer(): undefined {
    return undefined;
  }
  get bytesReceived(): number {
    return this.down.bytesRead;
  }
  get bytesSent(): number {
    return this.down.bytesWritten;
  }
  get durationMs(): number {
    return (this.endHr >= 0 ? this.endHr : performance.now()) - this.startHr;
  }
  get downstreamLocalAddress(): string {
    return this.info.localAddress;
  }
  get downstreamRemoteAddress(): string {
    return this.info.remoteAddress;
  }
  get requestedServerName(): string {
    return this.info.sni;
  }
  get attemptCount(): number {
    return this.attempts;
  }
}
