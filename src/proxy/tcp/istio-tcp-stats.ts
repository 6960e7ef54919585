// The network `istio.stats` filter in front of tcp_proxy: Istio's TCP metrics (istio_tcp_connections_
// opened_total / _closed_total, istio_tcp_sent_bytes_total / _received_bytes_total) with Istio's labels.
// There is no peer metadata exchange on raw TCP (Istio's uses an ALPN-negotiated exchange inside mTLS):
// the peer's workload labels are `unknown`; the destination side knows the peer's principal from its
// verified certificate. Bytes are added when the connection closes.
import {
  IstioMetrics,
  serviceOfHost,
  type DestService,
  type Reporter,
  type TcpSeries,
} from '../http/filters/istio-stats/istio-metrics.js';
import { compileStatsConfig, type StatsConfig } from '../http/filters/istio-stats/stats-config.js';
import { peerFromMetadata, UNKNOWN_PEER } from '../http/filters/istio-stats/peer-metadata.js';
import type { NodeInfo } from '../http/filters/filter.js';
import type { StatsStore } from '../stats/stats-store.js';

/** Compiled network istio.stats of one filter chain. */
export class IstioTcpStats {
  private readonly metrics: IstioMetrics;
  private readonly config: StatsConfig;

  constructor(typedConfig: any, store: StatsStore, node: NodeInfo | null) {
    this.config = compileStatsConfig(typedConfig);
    const reporter: Reporter = this.config.inbound ? 'destination' : 'source';
    this.metrics = new IstioMetrics(
      store,
      reporter,
      peerFromMetadata(node?.metadata ?? {}),
      this.config.overrides,
    );
  }

  /** Counts a connection opened to `cluster`; returns its series for `closed`. */
  opened(cluster: string, peerPrincipal: string): TcpSeries {
    const svc = this.config.inbound ? this.config.matchService('') : clusterService(cluster);
    const s = this.metrics.tcpSeries(svc, UNKNOWN_PEER, this.config.inbound ? peerPrincipal : '');
    if (s.opened !== null) s.opened.inc();
    return s;
  }

  /** Counts the close and the bytes: sent = to the downstream, received = from it (Istio's meaning). */
  closed(s: TcpSeries, sentBytes: number, receivedBytes: number): void {
    if (s.closed !== null) s.closed.inc();
    if (s.sent !== null) s.sent.add(sentBytes);
    if (s.received !== null) s.received.add(receivedBytes);
  }
}

/** `outbound|9000||tcp-echo.default.svc.cluster.local` → its service; other clusters by name. */
function clusterService(cluster: string): DestService {
  const p = cluster.split('|');
  if (p.length === 4 && p[3] !== '') return serviceOfHost(p[3]);
  return { host: cluster, name: cluster, namespace: 'unknown' };
}
