// Applies xDS resources (from ADS or the bootstrap) to the runtime: compiles each resource on its own,
// keeps the last good version of any resource that fails, swaps the routing snapshot atomically, and
// reports errors (naming resource and field) for the NACK.
import type { AccessLog } from '../http/access-log/access-log.js';
import { compilePerRoute } from '../http/filters/registry.js';
import type { NodeInfo } from '../http/filters/filter.js';
import type { HcmContext } from '../http/hcm/hcm-config.js';
import { RouteTable } from '../http/route/route-table.js';
import type { VirtualHost } from '../http/route/virtual-host.js';
import { namespaceOf } from '../../xds/type-urls.js';
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
  envoy_config_route_v3_VirtualHost as VirtualHostMessage,
} from '../../xds/envoy-types.js';

const log = logger('config');

/** xDS type URLs the proxy consumes. */
export const TYPE = {
  LISTENER: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  ROUTE: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  CLUSTER: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ENDPOINT: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  SECRET: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  VIRTUAL_HOST: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
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
  /** VHDS: route configurations (as received) whose virtual hosts come by VHDS, by name. */
  private readonly vhdsConfigs = new Map<string, RouteConfiguration>();
  /** VHDS: the virtual hosts held per route configuration name, in the order received. */
  private vhdsHosts = new Map<string, readonly VirtualHostMessage[]>();
  /** Virtual hosts compiled so far, by message object: a VHDS update compiles only the hosts that changed. */
  private readonly compiledHosts = new WeakMap<object, VirtualHost>();
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
      [TYPE.VIRTUAL_HOST]: new XdsStats(store, 'http.vhds'),
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
      case TYPE.VIRTUAL_HOST:
        errors = this.applyVirtualHosts(resources, version);
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
      if (r?.vhds) {
        // As Envoy: VHDS works over the ADS stream, and only when that stream is delta.
        const refused = !r.vhds.configSource?.ads
          ? 'vhds.configSource: only ads is supported (the virtual hosts come over the ADS stream)'
          : !incremental
            ? 'vhds: VHDS needs delta xDS, and this update came over state of the world'
            : null;
        if (refused) {
          errors.push(`route configuration ${name}: ${refused}`);
          if (old) old.version = version;
          continue;
        }
        // VHDS: the table is this configuration plus the virtual hosts VHDS holds for it.
        const prev = this.vhdsConfigs.get(name);
        if (
          prev &&
          (prev === r || (!incremental && JSON.stringify(prev) === JSON.stringify(r))) &&
          (old || !this.vhdsReady(name, r))
        ) {
          if (old) old.version = version;
          continue;
        }
        this.vhdsConfigs.set(name, r);
        const err = this.buildVhdsTable(name, r, this.vhdsHosts.get(name) ?? [], version, now);
        if (err) errors.push(err);
        continue;
      }
      if (this.vhdsConfigs.delete(name)) this.vhdsHosts.delete(name);
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
    for (const name of [...this.vhdsConfigs.keys()])
      if (!seen.has(name)) {
        this.vhdsConfigs.delete(name);
        this.vhdsHosts.delete(name); // a route configuration that comes back waits for VHDS again
      }
    this.swap();
    return errors;
  }

  /**
   * VHDS: the whole set of virtual hosts held, each named `<route configuration>/<virtual host>`. Route
   * tables whose hosts changed are rebuilt (compiling only the hosts that are new objects); a table that
   * fails keeps its last good hosts, and the update is NACKed naming the route configuration and field.
   */
  private applyVirtualHosts(list: readonly VirtualHostMessage[], version: string): string[] {
    const next = new Map<string, VirtualHostMessage[]>();
    for (const vh of list) {
      const ns = namespaceOf(String(vh?.name ?? ''));
      let hosts = next.get(ns);
      if (!hosts) next.set(ns, (hosts = []));
      hosts.push(vh);
    }
    const errors: string[] = [];
    const now = new Date().toISOString();
    const kept = new Map<string, readonly VirtualHostMessage[]>();
    for (const name of new Set([...next.keys(), ...this.vhdsHosts.keys()])) {
      const prev = this.vhdsHosts.get(name);
      const hosts = next.get(name) ?? [];
      if (prev && prev.length === hosts.length && prev.every((h, i) => h === hosts[i])) {
        kept.set(name, prev);
        continue;
      }
      const rc = this.vhdsConfigs.get(name);
      const err = rc ? this.buildVhdsTable(name, rc, hosts, version, now) : null;
      if (err) {
        errors.push(err);
        if (prev) kept.set(name, prev);
      } else if (hosts.length > 0) kept.set(name, hosts);
    }
    this.vhdsHosts = kept;
    this.swap();
    return errors;
  }

  /**
   * True once a VHDS route configuration can serve: VHDS has answered for it (the server sends every one
   * at least its catch-all host), or it carries virtual hosts of its own. Until then a name that had no
   * table gets none (its listener finds no table, and a starting proxy is not LIVE), and one that had a
   * table keeps it.
   */
  private vhdsReady(name: string, rc: RouteConfiguration): boolean {
    return (this.vhdsHosts.get(name)?.length ?? 0) > 0 || (rc.virtualHosts?.length ?? 0) > 0;
  }

  /** Compiles a VHDS route configuration with `hosts`; returns the NACK message, or null. */
  private buildVhdsTable(
    name: string,
    rc: RouteConfiguration,
    hosts: readonly VirtualHostMessage[],
    version: string,
    now: string,
  ): string | null {
    // Not answered yet (see vhdsReady): a table this name already has (a whole route configuration before
    // a control plane that serves VHDS) keeps serving until the hosts come; with none, the proxy waits.
    if (hosts.length === 0 && (rc.virtualHosts?.length ?? 0) === 0) return null;
    const merged: RouteConfiguration = { ...rc, virtualHosts: [...(rc.virtualHosts ?? []), ...hosts] };
    try {
      this.routes.set(name, {
        table: new RouteTable(merged, compilePerRoute, this.compiledHosts),
        version,
        lastUpdated: now,
      });
      return null;
    } catch (e) {
      return describe(e, `route configuration ${name}`);
    }
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

  /** Route configuration names whose virtual hosts come by VHDS (the VHDS subscription's namespaces). */
  vhdsNames(): string[] {
    return [...this.vhdsConfigs.keys()];
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
