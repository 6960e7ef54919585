// What the admin interface reads from the running proxy.
import type { ConfigManager } from '../config/config-manager.js';
import type { ListenerManager } from '../listener/listener-manager.js';
import type { StatsStore } from '../stats/stats-store.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { envoy_config_bootstrap_v3_Bootstrap as BootstrapConfig } from '../../xds/envoy-types.js';

/** Envoy's server states as /ready and /server_info report them. */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

/** The proxy as seen by the admin handlers. */
export interface AdminContext {
  readonly store: StatsStore;
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  readonly config: ConfigManager;
  /** The bootstrap in canonical form. */
  readonly bootstrap: BootstrapConfig;
  state(): ServerState;
  serverInfo(): Record<string, unknown>;
  /** Shuts the proxy down (admin /quitquitquit). */
  quit(): void;
}
