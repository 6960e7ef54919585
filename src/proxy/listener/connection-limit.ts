// Envoy's downstream connection limits: the global one (runtime `overload.global_downstream_max_connections`,
// as Istio's bootstrap sets it, or the overload manager's `envoy.resource_monitors.global_downstream_max_connections`
// monitor) and per listener (runtime `envoy.resource_limits.listener.<name>.connection_limit`).
import type { envoy_config_bootstrap_v3_Bootstrap as Bootstrap } from '../../xds/envoy-types.js';

const GLOBAL_KEY = 'overload.global_downstream_max_connections';
const LISTENER_KEY = /^envoy\.resource_limits\.listener\.(.+)\.connection_limit$/;
const MONITOR = 'envoy.resource_monitors.global_downstream_max_connections';

/** Connection limits of the whole proxy (one process; with --concurrency N, each worker). */
export class ConnectionLimits {
  /** Downstream connections open now on every listener. */
  active = 0;

  constructor(
    /** Global limit (Infinity = none). */
    readonly globalMax: number,
    /** Per-listener limits by listener name. */
    readonly perListener: ReadonlyMap<string, number>,
  ) {}

  /** The limit of one listener (Infinity = none). */
  listenerMax(name: string): number {
    return this.perListener.get(name) ?? Infinity;
  }
}

/** No limits (tests, proxies without a bootstrap). */
export const NO_LIMITS = new ConnectionLimits(Infinity, new Map());

/**
 * Reads the limits from a canonical bootstrap: `layeredRuntime.layers[].staticLayer` keys and
 * `overloadManager.resourceMonitors`. Throws naming the field when a value is not a positive number.
 */
export function connectionLimitsFrom(bootstrap: Bootstrap): ConnectionLimits {
  let globalMax = Infinity;
  const perListener = new Map<string, number>();
  const layers = bootstrap.layeredRuntime?.layers ?? [];
  layers.forEach((layer, i) => {
    const fields = layer?.staticLayer?.fields ?? {};
    for (const [key, v] of Object.entries(fields)) {
      const where = `layeredRuntime.layers[${i}].staticLayer.${key}`;
      if (key === GLOBAL_KEY) globalMax = positive(v?.numberValue ?? v?.stringValue, where);
      else {
        const m = LISTENER_KEY.exec(key);
        if (m) perListener.set(m[1], positive(v?.numberValue ?? v?.stringValue, where));
      }
    }
  });
  const monitors = bootstrap.overloadManager?.resourceMonitors ?? [];
  monitors.forEach((m, i) => {
    if (m?.name !== MONITOR) return;
    const where = `overloadManager.resourceMonitors[${i}].typedConfig.maxActiveDownstreamConnections`;
    globalMax = Math.min(globalMax, positive(m.typedConfig?.maxActiveDownstreamConnections, where));
  });
  return new ConnectionLimits(globalMax, perListener);
}

function positive(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${where}: expected a positive number, got ${JSON.stringify(v)}`);
  return n;
}
