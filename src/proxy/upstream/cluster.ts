// A compiled upstream cluster: its config, host set, load balancer, circuit breaker, pools and stats.
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import type { StatsStore } from '../stats/stats-store.js';
import { ConfigError, durationMs, u32 } from '../util/values.js';
import { CircuitBreaker, parseThresholds } from './circuit-breaker.js';
import { ClusterStats } from './cluster-stats.js';
import { Host } from './host.js';
import { EMPTY_HOST_SET, HostSet, hostsFromAssignment } from './host-set.js';
import { createLoadBalancer } from './lb/index.js';
import type { LbContext, LoadBalancer } from './lb/load-balancer.js';
import { OriginalDstLoadBalancer, parseHostPort } from './lb/original-dst/original-dst.js';
import { outlierConfig } from './outlier/outlier-config.js';
import { OutlierDetector } from './outlier/outlier-detector.js';
import { poolOptions, type PoolOptions } from './pool/pool-options.js';
import type { ConnPool } from './pool/conn-pool.js';
import { Http1Pool } from './pool/http1-pool.js';
import { Http2Pool } from './pool/http2-pool.js';
import type { SecretLookup } from '../tls/secret-manager.js';
import { compileUpstreamTransport, type UpstreamTls } from '../tls/upstream-tls.js';
import { TransportSockets } from './transport-socket-match.js';
import { compileClusterFilters, type MetadataExchange } from '../tcp/metadata-exchange/metadata-exchange.js';
import { logger } from '../log.js';
import type {
  envoy_config_cluster_v3_Cluster as ClusterConfig,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
  envoy_config_endpoint_v3_LbEndpoint as LbEndpoint,
  envoy_config_endpoint_v3_LocalityLbEndpoints as LocalityLbEndpoints,
  envoy_extensions_upstreams_http_v3_HttpProtocolOptions as HttpProtocolOptions,
} from '../../xds/envoy-types.js';

const log = logger('upstream');

/** Envoy cluster discovery types Mizzen supports. */
export type DiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** True when the cluster speaks HTTP/2 to its endpoints (legacy or typed protocol options). */
export function usesHttp2(config: ClusterConfig): boolean {
  if (config.http2ProtocolOptions) return true;
  const opts = config.typedExtensionProtocolOptions?.[HTTP_PROTOCOL_OPTIONS] as
    HttpProtocolOptions | undefined;
  return !!opts?.explicitHttpConfig?.http2ProtocolOptions;
}

/** True when the cluster uses the downstream protocol (Istio's inbound clusters). */
export function usesDownstreamProtocol(config: ClusterConfig): boolean {
  const opts = config.typedExtensionProtocolOptions?.[HTTP_PROTOCOL_OPTIONS] as
    HttpProtocolOptions | undefined;
  return !!opts?.useDownstreamProtocolConfig;
}

/** One upstream cluster. Its config is immutable; the host set is swapped on EDS/DNS updates. */
export class Cluster {
  readonly name: string;
  readonly type: DiscoveryType;
  readonly stats: ClusterStats;
  readonly breaker: CircuitBreaker;
  /** Connect timeout in ms (Envoy default 5 s). */
  readonly connectTimeoutMs: number;
  /** Always HTTP/2 upstream. */
  readonly http2: boolean;
  /** HTTP/2 upstream only when the downstream request is HTTP/2. */
  readonly downstreamProtocol: boolean;
  /** Name EDS assignments arrive under (edsClusterConfig.serviceName or the cluster name). */
  readonly edsServiceName: string;
  /** Healthy panic threshold, percent. */
  readonly panicThreshold: number;
  /** TLS origination (transport_socket UpstreamTlsContext), or null for plaintext. */
  readonly tls: UpstreamTls | null;
  /** istio.metadata_exchange among the cluster's filters (run on tcp_proxy connections), or null. */
  readonly metadataExchange: MetadataExchange | null;
  /** Per-endpoint transport sockets (transport_socket_matches over `tls`). */
  private readonly transports: TransportSockets;
  /** Outlier detection, or null when the cluster has none. */
  readonly outlier: OutlierDetector | null;
  /** Per-connection limits and timers of this cluster's pools. */
  readonly poolOptions: PoolOptions;
  /** The last applied ClusterLoadAssignment (canonical), for config dumps and carry-over. */
  assignment: ClusterLoadAssignment | null = null;
  hostSet: HostSet = EMPTY_HOST_SET;
  private readonly lb: LoadBalancer;
  private dnsTimer: NodeJS.Timeout | null = null;
  /** ORIGINAL_DST: the balancer that owns the on-demand hosts, and its cleanup timer. */
  private readonly originalDst: OriginalDstLoadBalancer | null;
  private cleanupTimer: NodeJS.Timeout | null = null;
  private destroyed = false;

  constructor(
    /** The canonical Cluster resource. */
    readonly config: ClusterConfig,
    store: StatsStore,
    secrets: SecretLookup | null = null,
  ) {
    this.name = String(config.name ?? '');
    if (!this.name) throw new ConfigError('(unnamed cluster)', 'name', 'cluster name is required');
    this.type = clusterType(config);
    this.stats = new ClusterStats(store, this.name);
    this.breaker = new CircuitBreaker(parseThresholds(config.circuitBreakers), this.stats.scope);
    try {
      this.connectTimeoutMs = durationMs(config.connectTimeout, 5000);
    } catch (e) {
      throw new ConfigError(this.name, 'connectTimeout', (e as Error).message);
    }
    try {
      this.tls = compileUpstreamTransport(config.transportSocket, secrets);
      this.transports = new TransportSockets(config.transportSocketMatches, this.tls, secrets);
    } catch (e) {
      throw new ConfigError(this.name, '', (e as Error).message);
    }
    try {
      this.metadataExchange = compileClusterFilters(config.filters, store);
    } catch (e) {
      throw new ConfigError(this.name, '', (e as Error).message);
    }
    this.http2 = usesHttp2(config);
    this.downstreamProtocol = usesDownstreamProtocol(config);
    this.edsServiceName = String(config.edsClusterConfig?.serviceName || this.name);
    this.panicThreshold = config.commonLbConfig?.healthyPanicThreshold
      ? Number(config.commonLbConfig.healthyPanicThreshold.value ?? 0)
      : 50;
    this.poolOptions = poolOptions(config);
    try {
      this.lb = createLoadBalancer(config);
      const od = outlierConfig(config.outlierDetection);
      this.outlier = od
        ? new OutlierDetector(od, this.stats.scope, this.name, () => this.refreshHealth())
        : null;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(this.name, 'lbPolicy', (e as Error).message);
    }
    this.outlier?.start();
    this.originalDst = this.lb instanceof OriginalDstLoadBalancer ? this.lb : null;
    if (this.originalDst !== null) {
      const od = this.originalDst;
      this.cleanupTimer = setInterval(() => {
        for (const h of od.cleanup()) h.pool?.drain();
      }, od.config.cleanupMs);
      this.cleanupTimer.unref();
    }
    this.lb.update(this.hostSet);
    if (this.type === 'STATIC' && config.loadAssignment) this.setAssignment(config.loadAssignment);
    if ((this.type === 'STRICT_DNS' || this.type === 'LOGICAL_DNS') && config.loadAssignment) {
      this.assignment = config.loadAssignment;
      this.resolveDns(durationMs(config.dnsRefreshRate, 5000));
    }
  }

  /** Picks a host for one request (or retry), or null when no host can take traffic. */
  pick(ctx: LbContext): Host | null {
    if (this.hostSet.panic) this.stats.lb_healthy_panic.inc();
    return this.lb.pick(ctx);
  }

  /**
   * ORIGINAL_DST: where the downstream meant to go — the configured header when the cluster uses one,
   * else the request authority when it is an `ip:port` literal, else the downstream connection's
   * local address (the original destination under transparent interception).
   */
  originalDestination(req: {
    readonly headers: Record<string, string | string[] | undefined>;
    readonly authority: string;
    readonly conn: { readonly localAddress: string };
  }): string | null {
    const od = this.originalDst;
    if (od === null) return null;
    if (od.config.useHttpHeader) {
      const v = req.headers[od.config.headerName];
      return typeof v === 'string' ? v : null;
    }
    if (parseHostPort(req.authority) !== null) return req.authority;
    return req.conn.localAddress || null;
  }

  /** TLS settings of connections to `host` (null = plaintext): transport_socket_matches, else transport_socket. */
  tlsFor(host: Host): UpstreamTls | null {
    return this.transports.forHost(host);
  }

  /** The connection pool of `host`, created on first use. HTTP/2 when the cluster (or downstream) says so. */
  poolFor(host: Host, downstreamHttp2: boolean): ConnPool {
    if (host.pool) return host.pool;
    const ctx = {
      host,
      stats: this.stats,
      breaker: this.breaker,
      connectTimeoutMs: this.connectTimeoutMs,
      tls: this.tlsFor(host),
      outlier: this.outlier,
      options: this.poolOptions,
    };
    const h2 = this.http2 || (this.downstreamProtocol && downstreamHttp2);
    host.pool = h2 ? new Http2Pool(ctx) : new Http1Pool(ctx);
    return host.pool;
  }

  /** Applies an EDS ClusterLoadAssignment (or the static load_assignment). */
  setAssignment(cla: ClusterLoadAssignment): void {
    this.assignment = cla;
    this.setHosts(hostsFromAssignment(cla, this.hostIndex()));
  }

  /** Replaces the host list; hosts that disappeared get their pools drained. */
  setHosts(hosts: Host[]): void {
    const old = this.hostSet.hosts;
    this.outlier?.setHosts(hosts);
    this.hostSet = new HostSet(hosts, this.panicThreshold);
    this.lb.update(this.hostSet);
    const keep = new Set(hosts);
    for (const h of old) if (!keep.has(h)) h.pool?.drain();
    this.stats.membership_total.set(hosts.length);
    this.stats.membership_healthy.set(this.hostSet.healthyCount);
    this.stats.membership_change.inc();
  }

  /** Recomputes the host set after health changes (outlier ejections and returns). */
  refreshHealth(): void {
    this.hostSet = new HostSet(this.hostSet.hosts, this.panicThreshold);
    this.lb.update(this.hostSet);
    this.stats.membership_healthy.set(this.hostSet.healthyCount);
  }

  /** Stops DNS refresh and drains every pool (in-flight requests finish first). */
  destroy(): void {
    this.destroyed = true;
    if (this.dnsTimer) clearTimeout(this.dnsTimer);
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.outlier?.stop();
    if (this.originalDst !== null) for (const e of this.originalDst.hosts.values()) e.host.pool?.drain();
    for (const h of this.hostSet.hosts) h.pool?.drain();
  }

  private hostIndex(): Map<string, Host> {
    const m = new Map<string, Host>();
    for (const h of this.hostSet.hosts) m.set(h.key, h);
    return m;
  }

  private resolveDns(refreshMs: number): void {
    const cla = this.assignment;
    const targets: Array<{ name: string; port: number; lb: LbEndpoint; le: LocalityLbEndpoints }> = [];
    for (const le of cla?.endpoints ?? []) {
      for (const lb of le.lbEndpoints ?? []) {
        const sa = lb.endpoint?.address?.socketAddress;
        if (sa) targets.push({ name: String(sa.address), port: Number(sa.portValue ?? 0), lb, le });
      }
    }
    let left = targets.length;
    const resolved: Host[][] = targets.map(() => []);
    const done = (): void => {
      if (this.destroyed) return;
      const prev = this.hostIndex();
      const hosts = resolved.flat().map((h) => {
        const p = prev.get(h.key);
        return p && p.weight === h.weight && p.hostname === h.hostname ? p : h;
      });
      this.setHosts(hosts);
      this.dnsTimer = setTimeout(() => this.resolveDns(refreshMs), refreshMs);
      this.dnsTimer.unref();
    };
    if (left === 0) return done();
    targets.forEach((t, i) => {
      const make = (ip: string): Host =>
        new Host(
          ip,
          t.port,
          t.name,
          Math.max(1, u32(t.lb.loadBalancingWeight, 1)),
          'HEALTHY',
          Number(t.le.priority ?? 0),
          {
            region: t.le.locality?.region ?? '',
            zone: t.le.locality?.zone ?? '',
            subZone: t.le.locality?.subZone ?? '',
          },
          t.lb.metadata ?? null,
        );
      if (isIP(t.name)) {
        resolved[i] = [make(t.name)];
        if (--left === 0) done();
        return;
      }
      lookup(t.name, { all: true }, (err, addrs) => {
        if (err) log.warn(`cluster ${this.name}: DNS lookup of ${t.name} failed: ${err.message}`);
        else {
          const list = this.type === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs;
          resolved[i] = list.map((a) => make(a.address));
        }
        if (--left === 0) done();
      });
    });
  }
}

function clusterType(config: ClusterConfig): DiscoveryType {
  const t = String(config.type ?? 'STATIC');
  if (t === 'STATIC' || t === 'STRICT_DNS' || t === 'LOGICAL_DNS' || t === 'EDS' || t === 'ORIGINAL_DST')
    return t;
  throw new ConfigError(String(config.name), 'type', `unsupported cluster discovery type ${t}`);
}
