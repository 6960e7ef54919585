// The data plane process: wires stats, clusters, listeners, config manager, admin and the ADS client;
// publishes bound ports (log lines and an optional ready file) and shuts down cleanly.
import type { AdsClient } from '../xds/ads-client.js';
import { TypeUrl, VHDS_CLIENT_FEATURE } from '../xds/type-urls.js';
import type { AdminContext, ServerState } from './admin/admin-context.js';
import { AdminServer } from './admin/admin-server.js';
import type { Bootstrap } from './bootstrap/bootstrap.js';
import type { envoy_config_bootstrap_v3_Bootstrap as BootstrapConfig } from '../xds/envoy-types.js';
import { connectionLimitsFrom } from './listener/connection-limit.js';
import { ConfigManager, TYPE } from './config/config-manager.js';
import { AccessLog } from './http/access-log/access-log.js';
import { ISTIO_FORMAT } from './http/access-log/formatter.js';
import { ListenerManager } from './listener/listener-manager.js';
import { writeReadyFile, type ProxyPorts } from './ready-file.js';
import { logger, setAllLevels } from './log.js';
import { StatsStore } from './stats/stats-store.js';
import { StatusServer } from './admin/status-server.js';
import { PrometheusServer } from './admin/prometheus-server.js';
import { MergedStatsServer } from './admin/merged-stats-server.js';
import type { AppMetricsTarget } from './admin/app-metrics.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { SecretManager } from './tls/secret-manager.js';
import type { WorkloadCertAgent, CertAgentOptions } from './tls/workload-cert-agent.js';

const log = logger('main');

/** Mizzen's version string in /server_info. */
export const VERSION = 'mizzen/0.1.0';

/** How the proxy is started. */
export interface ProxyOptions {
  /** Parsed bootstrap (static resources, node, ADS address), or null. */
  bootstrap?: Bootstrap | null;
  /** ADS server `host:port`, or several separated by commas to fail over between (overrides the bootstrap's). */
  xdsAddress?: string | null;
  /** Node id (overrides the bootstrap's). */
  nodeId?: string;
  /** Node metadata (merged over the bootstrap's). */
  metadata?: Record<string, unknown>;
  /** Admin bind address; default 127.0.0.1. */
  adminAddress?: string;
  /** Admin port; default the bootstrap's, else 15000. 0 picks a free port. */
  adminPort?: number;
  /** Write Istio's text access log to stdout for HCMs that configure none. */
  accessLog?: boolean;
  /** How long removed listeners keep serving existing connections, ms (default 45 s as Istio's drain). */
  drainTimeMs?: number;
  /** A file to write `{ admin, listeners, state }` to once LIVE (and after each listener change). */
  readyFile?: string | null;
  /** Envoy log level for every component. */
  logLevel?: string;
  /** Called on admin /quitquitquit after the proxy closed (the CLI exits the process). */
  onQuit?: () => void;
  /** False in a `--concurrency` worker: the primary serves admin for all workers (default true). */
  listenAdmin?: boolean;
  /** Worker processes of the whole proxy, shown in /server_info (default 1). */
  concurrency?: number;
  /** Istio's status port: /healthz/ready on 0.0.0.0 (Kubernetes readiness probes); null/absent = none. */
  statusPort?: number | null;
  /** Envoy's Prometheus endpoint (Istio's 15090): `/stats/prometheus` at this `ip:port`; null/absent = none. */
  statsAddress?: { address: string; port: number } | null;
  /**
   * Istio's merged metrics endpoint (pilot-agent's 15020): `/stats/prometheus` and `/metrics` at
   * `ip:port` with the agent's, the proxy's and (when `app` is set) the app's metrics; null/absent = none.
   */
  mergedStats?: { address: string; port: number; app: AppMetricsTarget | null } | null;
  /** Called with the bound ports once LIVE and after every listener change (where the ready file is written). */
  onPorts?: (ports: ProxyPorts) => void;
  /** The workload certificate agent's settings (the proxy is LIVE only once it has a certificate), or null. */
  certAgent?: Omit<CertAgentOptions, 'secrets' | 'onCertificate'> | null;
}

/** A running proxy. */
export class Proxy implements AdminContext {
  readonly store = new StatsStore();
  /** SDS secrets: the bootstrap's static ones and those received over ADS. */
  readonly secrets: SecretManager;
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  readonly config: ConfigManager;
  readonly bootstrap: BootstrapConfig;
  readonly admin: AdminServer;
  private ads: AdsClient | null = null;
  private status: StatusServer | null = null;
  private prometheus: PrometheusServer | null = null;
  private merged: MergedStatsServer | null = null;
  /** Gets and renews the workload certificate (SDS `default` and `ROOTCA`), or null. */
  certAgent: WorkloadCertAgent | null = null;
  private readonly startedAt = Date.now();
  private live = false;
  private closed = false;
  private readonly node: {
    id: string;
    cluster: string;
    metadata: Record<string, unknown>;
    locality: { region?: string; zone?: string; subZone?: string } | null;
  };

  private constructor(private readonly opts: ProxyOptions) {
    if (opts.logLevel) setAllLevels(opts.logLevel);
    const b = opts.bootstrap ?? null;
    this.bootstrap = b?.canonical ?? {};
    this.node = {
      id: opts.nodeId ?? b?.node.id ?? '',
      cluster: b?.node.cluster ?? '',
      metadata: { ...(b?.node.metadata ?? {}), ...(opts.metadata ?? {}) },
      locality: b?.node.locality ?? null,
    };
    this.secrets = new SecretManager(this.store);
    this.clusters = new ClusterManager(this.store, this.secrets);
    this.listeners = new ListenerManager(
      this.store,
      opts.drainTimeMs ?? 45_000,
      connectionLimitsFrom(this.bootstrap),
    );
    const defaultLogs = opts.accessLog ? [new AccessLog('/dev/stdout', ISTIO_FORMAT, null)] : null;
    this.config = new ConfigManager(
      this.store,
      this.clusters,
      this.listeners,
      defaultLogs,
      this.secrets,
      this.node,
    );
    this.admin = new AdminServer(this);
    this.store.gauge('server.live', 'server.live', []).set(0);
  }

  /** Starts a proxy: admin, static resources, then ADS if configured. Rejects on invalid bootstrap or bind errors. */
  static async start(opts: ProxyOptions): Promise<Proxy> {
    const p = new Proxy(opts);
    try {
      await p.init();
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** Where admin listens: the options, else the bootstrap's admin address, else 127.0.0.1:15000. */
  adminBind(): { address: string; port: number } {
    const b = this.opts.bootstrap ?? null;
    return {
      address: this.opts.adminAddress ?? b?.admin?.address ?? '127.0.0.1',
      port: this.opts.adminPort ?? b?.admin?.port ?? 15000,
    };
  }

  private async init(): Promise<void> {
    const b = this.opts.bootstrap ?? null;
    if (this.opts.listenAdmin !== false) {
      const { address, port } = this.adminBind();
      const bound = await this.admin.listen(address, port);
      log.info(`admin listening on ${address}:${bound}`);
      if (this.opts.statusPort != null) {
        this.status = new StatusServer(() => this.live);
        const sp = await this.status.listen('0.0.0.0', this.opts.statusPort);
        log.info(`status (/healthz/ready) listening on 0.0.0.0:${sp}`);
      }
      const sa = this.opts.statsAddress;
      if (sa) {
        this.prometheus = new PrometheusServer((m, u) => this.admin.respond(m, u));
        const pp = await this.prometheus.listen(sa.address, sa.port);
        log.info(`prometheus stats (/stats/prometheus) listening on ${sa.address}:${pp}`);
      }
      const ms = this.opts.mergedStats;
      if (ms) {
        this.merged = new MergedStatsServer((m, u) => this.admin.respond(m, u), ms.app);
        const mp = await this.merged.listen(ms.address, ms.port);
        const app = ms.app ? ` + app http://${ms.app.host}:${ms.app.port}${ms.app.path}` : '';
        log.info(`merged prometheus stats (/stats/prometheus${app}) listening on ${ms.address}:${mp}`);
      }
    }
    if (b) {
      // Secrets first: static clusters and listeners may refer to them.
      const secrets = b.canonical.staticResources?.secrets ?? [];
      const se = await this.config.apply(TYPE.SECRET, secrets, 'static', 'static');
      if (se) throw new Error(`bootstrap: ${se.message}`);
      const ce = await this.config.apply(TYPE.CLUSTER, b.staticClusters, 'static', 'static');
      if (ce) throw new Error(`bootstrap: ${ce.message}`);
      const le = await this.config.apply(TYPE.LISTENER, b.staticListeners, 'static', 'static');
      if (le) throw new Error(`bootstrap: ${le.message}`);
    }
    // The ADS client (gRPC, Envoy's protos) and the certificate agent (gRPC, X.509) load only when used:
    // a proxy with a static bootstrap and no mesh identity keeps ~20 MiB less resident (#17).
    if (this.opts.certAgent) {
      const { WorkloadCertAgent } = await import('./tls/workload-cert-agent.js');
      this.certAgent = new WorkloadCertAgent({
        ...this.opts.certAgent,
        secrets: this.secrets,
        onCertificate: () => this.checkLive(),
      });
      this.certAgent.start();
    }
    const xds = this.opts.xdsAddress ?? b?.adsAddress ?? null;
    if (xds) {
      const { AdsClient } = await import('../xds/ads-client.js');
      this.startAds(
        xds,
        AdsClient,
        b?.adsProtocol ?? undefined,
        b?.adsKeepalive ?? undefined,
        b && b.adsTcpKeepaliveMs >= 0 ? b.adsTcpKeepaliveMs : undefined,
      );
    } else this.becomeLive();
  }

  private startAds(
    server: string,
    Client: typeof AdsClient,
    protocol: 'delta' | 'sotw' | undefined,
    keepalive: { intervalMs: number; timeoutMs: number } | undefined,
    tcpKeepaliveMs: number | undefined,
  ): void {
    const ads = new Client({
      server,
      protocol,
      keepalive,
      tcpKeepaliveMs,
      node: {
        id: this.node.id,
        cluster: this.node.cluster || undefined,
        metadata: this.node.metadata,
        locality: this.node.locality ?? undefined,
        clientFeatures: [VHDS_CLIENT_FEATURE],
      },
      onResources: async (typeUrl, resources, version, incremental) => {
        const err = await this.config.apply(typeUrl, resources, version, 'dynamic', incremental);
        if (typeUrl === TYPE.LISTENER) this.publishPorts();
        this.checkLive();
        return err;
      },
    });
    this.config.onSubscriptionsChanged = () => {
      ads.subscribe(TypeUrl.ENDPOINT, this.config.edsNames());
      ads.subscribe(TypeUrl.ROUTE, this.config.rdsNames());
      ads.subscribe(TypeUrl.VIRTUAL_HOST, this.config.vhdsNames());
      ads.subscribe(TypeUrl.SECRET, this.config.sdsNames());
    };
    // Envoy's gauge: 1 while the ADS stream is up, 0 otherwise.
    const connected = this.store.gauge('control_plane.connected_state', 'control_plane.connected_state', []);
    connected.set(0);
    ads.on('connected', (addr) => {
      connected.set(1);
      log.info(
        `connected to ADS server ${addr} (${ads.protocol === 'delta' ? 'delta xDS' : 'state of the world'})`,
      );
    });
    ads.on('disconnected', (why) => {
      connected.set(0);
      log.warn(`ADS stream to ${ads.server} down (${why}); serving the last good config`);
    });
    ads.on('nack', (t, v, m) => log.warn(`NACK ${t} version ${v}: ${m}`));
    this.ads = ads;
    ads.start();
    // Envoy's initial_fetch_timeout: go LIVE after 15 s even if the control plane is silent.
    setTimeout(() => this.becomeLive(), 15_000).unref();
  }

  private checkLive(): void {
    if (this.live) return;
    // Envoy keeps listeners and clusters warming until their SDS secrets arrive.
    if (this.certAgent !== null && !this.certAgent.ready) return;
    const v = this.config.versions;
    if (!v.has(TYPE.CLUSTER) || !v.has(TYPE.LISTENER)) return;
    for (const n of this.config.rdsNames()) if (!this.config.current.routeTable(n)) return;
    this.becomeLive();
  }

  private becomeLive(): void {
    if (this.live || this.closed) return;
    this.live = true;
    this.store.gauge('server.live', 'server.live', []).set(1);
    log.info('proxy is LIVE');
    this.publishPorts();
  }

  /** Writes the ready file and tells `onPorts` (once LIVE). */
  private publishPorts(): void {
    const f = this.opts.readyFile;
    if (!this.live || (!f && !this.opts.onPorts)) return;
    const ports = this.ports();
    if (f) writeReadyFile(f, ports);
    this.opts.onPorts?.(ports);
  }

  /** Bound addresses: admin port and each listener's real `ip:port` (what the ready file holds). */
  ports(): ProxyPorts {
    const listeners: Record<string, string> = {};
    for (const [name, e] of this.listeners.entries)
      if (e.listener.config.bind) listeners[name] = e.listener.boundAddress;
    return {
      adminPort: this.admin.port,
      admin: `127.0.0.1:${this.admin.port}`,
      listeners,
      state: this.state(),
    };
  }

  /** The port a listener is bound to (0 when unknown). */
  listenerPort(name: string): number {
    return this.listeners.entries.get(name)?.listener.boundPort ?? 0;
  }

  /** Applies resources as if they came over ADS (tests and `mizzen up` use it). Resolves to an Error for a NACK. */
  apply(typeUrl: string, resources: readonly object[], version: string): Promise<Error | undefined> {
    return this.config.apply(typeUrl, resources, version);
  }

  // ---- AdminContext ----

  get adminPort(): number {
    return this.admin.port;
  }

  state(): ServerState {
    if (this.closed) return 'DRAINING';
    return this.live ? 'LIVE' : 'INITIALIZING';
  }

  serverInfo(): Record<string, unknown> {
    const up = Math.floor((Date.now() - this.startedAt) / 1000);
    return {
      version: VERSION,
      state: this.state(),
      hotRestartVersion: 'disabled',
      uptimeCurrentEpoch: { seconds: up },
      uptimeAllEpochs: { seconds: up },
      commandLineOptions: {
        drainTimeSeconds: Math.round((this.opts.drainTimeMs ?? 45_000) / 1000),
        concurrency: this.opts.concurrency ?? 1,
      },
      node: {
        id: this.node.id,
        cluster: this.node.cluster,
        metadata: this.node.metadata,
        ...(this.node.locality ? { locality: this.node.locality } : {}),
        userAgentName: 'mizzen',
      },
      adsConnected: this.ads?.connected ?? false,
    };
  }

  quit(): void {
    void this.close().then(() => this.opts.onQuit?.());
  }

  /** Stops ADS, listeners (connections closed), clusters and admin. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ads?.close();
    this.certAgent?.close();
    this.listeners.close();
    this.clusters.close();
    await this.admin.close();
    await this.status?.close();
    await this.prometheus?.close();
    await this.merged?.close();
  }
}
