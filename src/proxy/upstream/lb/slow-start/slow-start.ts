// Envoy's slow start (Istio's warmupDurationSecs): a new host's weight ramps up over a window.
import { durationMs } from '../../../util/values.js';
import type { Host } from '../../host.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../../xds/envoy-types.js';

/** A compiled slow_start_config. */
export class SlowStart {
  private readonly invAggression: number;

  constructor(
    /** Window in ms during which a host's weight is scaled down. */
    readonly windowMs: number,
    /** Ramp shape: 1 is linear, larger ramps faster at first. */
    readonly aggression: number,
    /** Floor of the scale factor (0..1); Envoy's default 10%. */
    readonly minWeight: number,
    /** Monotonic ms clock (tests inject a fake one). */
    readonly now: () => number = () => performance.now(),
  ) {
    this.invAggression = 1 / aggression;
  }

  /**
   * Weight scale of `h` now: max(minWeight, (max(age, 1 s) / window)^(1/aggression)), or 1 once the
   * host is older than the window.
   */
  factor(h: Host): number {
    const age = this.now() - h.addedAt;
    if (age >= this.windowMs) return 1;
    const t = Math.max(age, 1000) / this.windowMs;
    return Math.min(
      1,
      Math.max(this.minWeight, this.invAggression === 1 ? t : Math.pow(t, this.invAggression)),
    );
  }
}

/** Compiles `roundRobinLbConfig.slowStartConfig` / `leastRequestLbConfig.slowStartConfig`, or null. */
export function slowStartFrom(cluster: ClusterConfig, now?: () => number): SlowStart | null {
  const c = cluster.roundRobinLbConfig?.slowStartConfig ?? cluster.leastRequestLbConfig?.slowStartConfig;
  if (!c) return null;
  const windowMs = durationMs(c.slowStartWindow, 0);
  if (windowMs <= 0) return null;
  const aggression = Number(c.aggression?.defaultValue ?? 1) || 1;
  const minPct = c.minWeightPercent?.value;
  const minWeight = minPct === undefined ? 0.1 : Math.max(0, Math.min(100, Number(minPct))) / 100;
  return new SlowStart(windowMs, aggression, minWeight, now);
}
