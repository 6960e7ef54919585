// Applies xDS resources (from ADS or the bootstrap) to the runtime: compiles each resource on its own,
// keeps the last good version of any resource that fails, swaps the routing snapshot atomically, and
// reports errors (naming resource and field) for the NACK.
import type { AccessLog } from '../http/access-log/access-log.js';
import { compilePerRoute } from '../http/filters/registry.js';
import type { NodeInfo } from '../http/filters/filter.js';
import type { HcmContext } from '../http/hcm/hcm-config.js';
import { RouteTable } from '../http/route/route-table.js';
import { ListenerConfig } from '../listener/listener-config.js';
import type { ListenerManager } from '../listener/listener-manager.js';
import type { StatsStore, Counter } from '../stats/stats-store.js';
import type { Cluster } from '../upstream/cluster.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { ConfigError } from '../util/values.js';
import { SecretManager } from '../tls/secret-manager.js';
import { sdsNames } from '../tls/sds-names.js';
import type { Snapshot, SnapshotSource } from './snapshot.js';
import { logger } from '../log.js';
import type {
  envoy_config_cluster_v3_Cluster as ClusterMessage,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
  envoy_config_listener_v3_Listener as ListenerMessage,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../../xds/envoy-types.js';

const log = logger('config');

/** xDS type URLs the proxy consumes. */
export const TYPE = {
  LISTENER: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  ROUTE: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  CLUSTER: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ENDPOINT: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  SECRET: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** A route configuration with config-dump bookkeeping. */
export interface RouteEntryRecord {
  table: RouteTable;
  version: string;
  lastUpdated: string;
}

class RuntimeSnapshot implements Snapshot {
  constructor(
    readonly version: number,
    private readonly routes: ReadonlyMap<string, RouteTable>,
    private readonly clusters: ClusterManager,
  ) {}
  routeTable(name: string): RouteTable | undefined {
    return this.routes.get(name);
  }
  cluster(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }
}

/** Per-type xDS update counters (`cluster_manager.cds.*`, `listener_manager.lds.*`, `http.rds.*`). */
class XdsStats {
  readonly success: Counter;
  readonly rejected: Counter;
  constructor(store: StatsStore, prefix: string) {
    this.success = store.counter(`${prefix}.update_success`, `${prefix}.update_success`, []);
    this.rejected = store.counter(`${prefix}.update_rejected`, `${prefix}.update_rejected`, []);
  }
}

/** Owns the runtime config state of the proxy. */
export class ConfigManager implements SnapshotSource {
  current: Snapshot;
  readonly routes = new Map<string, RouteEntryRecord>();
  /** Last version string applied per type URL. */
  readonly versions = new Map<string, string>();
  /** Last NACK message per type URL ('' when the last update was accepted). */
  readonly lastErrors = new Map<string, string>();
  private snapshotVersion = 0;
  private readonly hcmCtx: HcmContext;
  private readonly xds: Record<string, XdsStats>;
  /** Called after changes that alter the EDS/RDS names to subscribe. */
  onSubscriptionsChanged: (() => void) | null = null;

  constructor(
    readonly store: StatsStore,
    readonly clusters: ClusterManager,
    readonly listeners: ListenerManager,
    private readonly defaultLogs: AccessLog[] | null,
    /** SDS secrets (shared with the clusters' and listeners' TLS contexts). */
    readonly secrets: SecretManager = new SecretManager(store),
    /** The proxy's node (filters and tcp_proxy report it in Istio's metrics). */
    readonly node: NodeInfo | null = null,
  ) {
    this.current = new RuntimeSnapshot(0, new Map(), clusters);
    this.hcmCtx = { store, source: this, defaultAccessLogs: defaultLogs, secrets, node };
    this.xds = {
      [TYPE.CLUSTER]: new XdsStats(store, 'cluster_manager.cds'),
      [TYPE.ENDPOINT]: new XdsStats(store, 'cluster_manager.eds'),
      [TYPE.LISTENER]: new XdsStats(store, 'listener_manager.lds'),
      [TYPE.ROUTE]: new XdsStats(store, 'http.rds'),
    };
  }

  private swap(): void {
    this.current = new RuntimeSnapshot(
      ++this.snapshotVersion,
      new Map([...this.routes].map(([k, v]) => [k, v.table])),
      this.clusters,
    );
  }

  /** Applies a full set of resources of one type (state of the world). Resolves to an Error for a NACK. */
  async apply(
    typeUrl: string,
    /** Canonical resources of `typeUrl` (checked by canonical-check when they came over xDS). */
    resources: readonly object[],
    version: string,
    source: 'static' | 'dynamic' = 'dynamic',
    /** From a delta stream: a new object is a changed resource, so no content comparison is needed. */
    incremental = false,
  ): Promise<Error | undefined> {
    let errors: string[];
    switch (typeUrl) {
      case TYPE.CLUSTER:
        errors = this.applyClusters(resources, version, source);
        break;
      case TYPE.ENDPOINT:
        errors = this.applyEndpoints(resources);
        break;
      case TYPE.LISTENER:
        errors = await this.applyListeners(resources, version, source);
        break;
      case TYPE.ROUTE:
        errors = this.applyRoutes(resources, version, incremental);
        break;
      case TYPE.SECRET:
        errors = this.secrets.apply(resources, version, source);
        break;
      default:
        return new Error(`unsupported resource type ${typeUrl}`);
    }
    this.versions.set(typeUrl, version);
    const st = this.xds[typeUrl];
    if (errors.length > 0) {
      st?.rejected.inc();
      const msg = errors.join('; ');
      this.lastErrors.set(typeUrl, msg);
      log.warn(`rejected part of ${typeUrl} version ${version}: ${msg}`);
      this.onSubscriptionsChanged?.();
      return new Error(msg);
    }
    st?.success.inc();
    this.lastErrors.set(typeUrl, '');
    this.onSubscriptionsChanged?.();
    return undefined;
  }

  private applyClusters(
    list: readonly ClusterMessage[],
    version: string,
    source: 'static' | 'dynamic',
  ): string[] {
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const c of list) {
      const name = String(c?.name ?? '');
      seen.add(name);
      const existing = this.clusters.entries.get(name);
      if (source === 'dynamic' && existing?.source === 'static') {
        errors.push(`cluster ${name}: name: already defined statically in the bootstrap`);
        continue;
      }
      try {
        this.clusters.upsert(c, source, version);
      } catch (e) {
        errors.push(describe(e, `cluster ${name}`));
      }
    }
    if (source === 'dynamic') {
      for (const [name, e] of [...this.clusters.entries])
        if (e.source === 'dynamic' && !seen.has(name)) this.clusters.remove(name);
    }
    this.swap();
    return errors;
  }

  private applyEndpoints(list: readonly ClusterLoadAssignment[]): string[] {
    const errors: string[] = [];
    for (const cla of list) {
      try {
        this.clusters.setAssignment(cla);
      } catch (e) {
        errors.push(describe(e, `cluster load assignment ${cla?.clusterName ?? ''}`));
      }
    }
    return errors;
  }

  private async applyListeners(
    list: readonly ListenerMessage[],
    version: string,
    source: 'static' | 'dynamic',
  ): Promise<string[]> {
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const l of list) {
      const name = String(l?.name ?? '');
      seen.add(name);
      const existing = this.listeners.entries.get(name);
      if (source === 'dynamic' && existing?.source === 'static') {
        errors.push(`listener ${name}: name: already defined statically in the bootstrap`);
        continue;
      }
      try {
        const cfg = new ListenerConfig(l, this.hcmCtx, this.defaultLogs, this.listeners.reusableChains(name));
        await this.listeners.upsert(cfg, source, version);
      } catch (e) {
        errors.push(describe(e, `listener ${name}`));
      }
    }
    if (source === 'dynamic') {
      for (const [name, e] of [...this.listeners.entries])
        if (e.source === 'dynamic' && !seen.has(name)) this.listeners.remove(name);
    }
    return errors;
  }

  private applyRoutes(list: readonly RouteConfiguration[], version: string, incremental: boolean): string[] {
    const errors: string[] = [];
    const seen = new Set<string>();
    const now = new Date().toISOString();
    for (const r of list) {
      const name = String(r?.name ?? '');
      seen.add(name);
      const old = this.routes.get(name);
      // Unchanged: the same object (a delta update hands unchanged route configs over as they were), or
      // in state of the world the same JSON. Over delta a new object was sent because it changed: the
      // comparison (two serializations of up to a few MiB) would only cost time.
      if (
        old &&
        (old.table.config === r || (!incremental && JSON.stringify(old.table.config) === JSON.stringify(r)))
      ) {
        old.version = version;
        continue;
      }
      try {
        this.routes.set(name, { table: new RouteTable(r, compilePerRoute), version, lastUpdated: now });
      } catch (e) {
        errors.push(describe(e, `route configuration ${name}`));
      }
    }
    for (const name of [...this.routes.keys()]) if (!seen.has(name)) this.routes.delete(name);
    this.swap();
    return errors;
  }

  /** RDS names the listeners reference. */
  rdsNames(): string[] {
    return this.listeners.rdsNames();
  }

  /** SDS secret names the listeners and clusters refer to. */
  sdsNames(): string[] {
    const configs: unknown[] = [];
    for (const e of this.listeners.entries.values()) configs.push(e.listener.config.config);
    for (const e of this.clusters.entries.values()) configs.push(e.cluster.config);
    return sdsNames(configs);
  }

  /** EDS names the clusters need. */
  edsNames(): string[] {
    return this.clusters.edsNames();
  }
}

/** `<kind> <name>: <field>: <what>` for a NACK message. */
function describe(e: unknown, what: string): string {
  if (e instanceof ConfigError) return `${what}: ${e.field ? `${e.field}: ` : ''}${e.detail}`;
  return `${what}: ${(e as Error).message ?? String(e)}`;
}
