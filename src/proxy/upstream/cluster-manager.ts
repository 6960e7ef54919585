// Owns every upstream cluster: adds/updates/removes them from CDS or bootstrap, routes EDS to them.
import type { StatsStore, Gauge } from '../stats/stats-store.js';
import { Cluster } from './cluster.js';
import type { SecretLookup } from '../tls/secret-manager.js';
import type {
  envoy_config_cluster_v3_Cluster as ClusterConfig,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
} from '../../xds/envoy-types.js';

/** Where a cluster came from. */
export type ClusterSource = 'static' | 'dynamic';

/** A cluster with bookkeeping for config dumps. */
export interface ClusterEntry {
  cluster: Cluster;
  source: ClusterSource;
  version: string;
  /** Time of the last change (ISO 8601). */
  lastUpdated: string;
}

/** The set of clusters. Lookups by name are what the router does per request. */
export class ClusterManager {
  readonly entries = new Map<string, ClusterEntry>();
  /** EDS service name → last ClusterLoadAssignment, kept so a re-created cluster keeps its endpoints. */
  private readonly assignments = new Map<string, ClusterLoadAssignment>();
  /** EDS service name → the EDS clusters that take its assignment (an EDS update finds them without a scan). */
  private readonly byEdsName = new Map<string, Set<Cluster>>();
  private readonly activeClusters: Gauge;

  constructor(
    private readonly store: StatsStore,
    /** Where clusters with SDS-backed TLS find their secrets; null = no SDS. */
    private readonly secrets: SecretLookup | null = null,
  ) {
    this.activeClusters = store.gauge(
      'cluster_manager.active_clusters',
      'cluster_manager.active_clusters',
      [],
    );
  }

  /** The cluster named `name`, or undefined. */
  get(name: string): Cluster | undefined {
    return this.entries.get(name)?.cluster;
  }

  /**
   * Adds or replaces a cluster (throws ConfigError when its config is invalid, leaving the old one).
   * An unchanged config keeps the running instance (pools, stats, LB state).
   */
  upsert(config: ClusterConfig, source: ClusterSource, version: string): Cluster {
    const name = String(config.name ?? '');
    const old = this.entries.get(name);
    if (old && sameConfig(old.cluster.config, config)) {
      old.version = version;
      return old.cluster;
    }
    const cluster = new Cluster(config, this.store, this.secrets);
    if (cluster.type === 'EDS') {
      const cla =
        this.assignments.get(cluster.edsServiceName) ??
        (old?.cluster.type === 'EDS' ? old.cluster.assignment : null);
      if (cla) cluster.setAssignment(cla);
    }
    this.entries.set(name, { cluster, source, version, lastUpdated: new Date().toISOString() });
    if (old) this.unindex(old.cluster);
    if (cluster.type === 'EDS') {
      let set = this.byEdsName.get(cluster.edsServiceName);
      if (!set) this.byEdsName.set(cluster.edsServiceName, (set = new Set()));
      set.add(cluster);
    }
    if (old) old.cluster.destroy();
    this.activeClusters.set(this.entries.size);
    return cluster;
  }

  private unindex(cluster: Cluster): void {
    if (cluster.type !== 'EDS') return;
    const set = this.byEdsName.get(cluster.edsServiceName);
    if (!set) return;
    set.delete(cluster);
    if (set.size === 0) this.byEdsName.delete(cluster.edsServiceName);
  }

  /** Removes a cluster; its in-flight requests finish, its pools drain. */
  remove(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    this.unindex(e.cluster);
    e.cluster.destroy();
    this.activeClusters.set(this.entries.size);
  }

  /**
   * Applies an EDS assignment to every EDS cluster whose service name matches. The object the clusters
   * already have is not applied again: a delta update hands over every held assignment, most of them the
   * very objects of the last update (in a 1000-service mesh, 3000 of them for one changed endpoint).
   */
  setAssignment(cla: ClusterLoadAssignment): void {
    const name = String(cla.clusterName ?? '');
    if (this.assignments.get(name) === cla) return;
    this.assignments.set(name, cla);
    const set = this.byEdsName.get(name);
    if (set) for (const c of set) c.setAssignment(cla);
  }

  /** Forgets assignments no longer subscribed. */
  dropAssignment(name: string): void {
    this.assignments.delete(name);
  }

  /** Names EDS must be subscribed to. */
  edsNames(): string[] {
    const s = new Set<string>();
    for (const e of this.entries.values()) if (e.cluster.type === 'EDS') s.add(e.cluster.edsServiceName);
    return [...s].sort();
  }

  /** Destroys every cluster (shutdown). */
  close(): void {
    for (const e of this.entries.values()) e.cluster.destroy();
    this.entries.clear();
    this.byEdsName.clear();
  }
}

/** The same object (a delta update hands unchanged clusters over as they were), else the same JSON. */
function sameConfig(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
