// The network `istio.stats` filter in front of tcp_proxy: Istio's TCP metrics (istio_tcp_connections_
// opened_total / _closed_total, istio_tcp_sent_bytes_total / _received_bytes_total) with Istio's labels.
// The peer's workload comes from istio.metadata_exchange (ALPN istio-peer-exchange inside mTLS; see
// metadata-exchange/): without one its labels are `unknown`; the destination side knows the peer's
// principal from its verified certificate either way. Bytes of open connections are added every tcp_reporting_duration (Istio's
// default 5 s, Telemetry reportingInterval) on one timer per filter, and the rest at close.
import { NO_PRINCIPALS, type UpstreamPrincipals } from '../upstream/pool/upstream-principals.js';
import {
  IstioMetrics,
  serviceOfHost,
  type DestService,
  type Reporter,
  type TcpSeries,
} from '../http/filters/istio-stats/istio-metrics.js';
import { compileStatsConfig, type StatsConfig } from '../http/filters/istio-stats/stats-config.js';
import { peerFromMetadata, UNKNOWN_PEER, type PeerInfo } from '../http/filters/istio-stats/peer-metadata.js';
import type { NodeInfo } from '../http/filters/filter.js';
import type { StatsStore } from '../stats/stats-store.js';

/** Istio's tcp_reporting_duration default. */
const DEFAULT_REPORT_MS = 5000;

/** One open connection's series and the bytes already reported. */
export interface IstioTcpConnection {
  readonly series: TcpSeries;
  readonly socket: { readonly bytesWritten: number; readonly bytesRead: number };
  sent: number;
  received: number;
}

/** Compiled network istio.stats of one filter chain. */
export class IstioTcpStats {
  private readonly metrics: IstioMetrics;
  private readonly config: StatsConfig;
  private readonly reportMs: number;
  private readonly open = new Set<IstioTcpConnection>();
  private timer: NodeJS.Timeout | null = null;

  constructor(typedConfig: unknown, store: StatsStore, node: NodeInfo | null) {
    this.config = compileStatsConfig(typedConfig);
    this.reportMs = this.config.tcpReportingMs ?? DEFAULT_REPORT_MS;
    const reporter: Reporter = this.config.inbound ? 'destination' : 'source';
    this.metrics = new IstioMetrics(
      store,
      reporter,
      peerFromMetadata(node?.metadata ?? {}),
      this.config.overrides,
    );
  }

  /** True on the destination (inbound) side. */
  get inbound(): boolean {
    return this.config.inbound;
  }

  /**
   * Counts a connection opened to `cluster`; its downstream `socket`'s bytes are reported from now on,
   * past `sentOffset` / `receivedOffset` (a metadata exchange's bytes, which are not the app's).
   * `peer`: the other side's workload from a metadata exchange, null when there was none.
   * `upstream`: the upstream connection's mutual TLS identities (the source reporter's principals).
   */
  opened(
    cluster: string,
    peerPrincipal: string,
    socket: { readonly bytesWritten: number; readonly bytesRead: number },
    peer: PeerInfo | null = null,
    sentOffset = 0,
    receivedOffset = 0,
    upstream: UpstreamPrincipals = NO_PRINCIPALS,
  ): IstioTcpConnection {
    const svc = this.config.inbound ? this.config.matchService('') : clusterService(cluster);
    const principal = this.config.inbound ? peerPrincipal : upstream.peer;
    const series = this.metrics.tcpSeries(
      svc,
      peer ?? UNKNOWN_PEER,
      principal,
      this.config.inbound ? '' : upstream.local,
    );
    if (series.opened !== null) series.opened.inc();
    const s: IstioTcpConnection = { series, socket, sent: sentOffset, received: receivedOffset };
    this.open.add(s);
    if (this.timer === null && this.reportMs > 0) {
      this.timer = setInterval(() => this.report(), this.reportMs);
      this.timer.unref();
    }
    return s;
  }

  /** Counts the close and the bytes not reported yet. */
  closed(s: IstioTcpConnection): void {
    this.open.delete(s);
    reportBytes(s);
    if (s.series.closed !== null) s.series.closed.inc();
    if (this.open.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Adds every open connection's bytes since its last report. */
  private report(): void {
    for (const s of this.open) reportBytes(s);
  }
}

/** Adds a connection's new bytes: sent = to the downstream, received = from it (Istio's meaning). */
function reportBytes(s: IstioTcpConnection): void {
  const sent = s.socket.bytesWritten;
  const received = s.socket.bytesRead;
  if (s.series.sent !== null && sent > s.sent) s.series.sent.add(sent - s.sent);
  if (s.series.received !== null && received > s.received) s.series.received.add(received - s.received);
  s.sent = sent;
  s.received = received;
}

/** `outbound|9000||tcp-echo.default.svc.cluster.local` → its service; other clusters by name. */
function clusterService(cluster: string): DestService {
  const p = cluster.split('|');
  if (p.length === 4 && p[3] !== '') return serviceOfHost(p[3]);
  return { host: cluster, name: cluster, namespace: 'unknown' };
}
