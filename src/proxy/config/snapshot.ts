// The runtime view a request captures when it starts: route tables and clusters by name.
import type { RouteTable } from '../http/route/route-table.js';
import type { Cluster } from '../upstream/cluster.js';

/** Immutable per-update view of routing config; requests keep the one they started with. */
export interface Snapshot {
  /** Increases with every applied update. */
  readonly version: number;
  /** A route configuration by name (RDS), or undefined. */
  routeTable(name: string): RouteTable | undefined;
  /** A cluster by name, or undefined. */
  cluster(name: string): Cluster | undefined;
}

/** Where HCMs and TCP proxies read the current snapshot from (swapped atomically by the config manager). */
export interface SnapshotSource {
  readonly current: Snapshot;
}
