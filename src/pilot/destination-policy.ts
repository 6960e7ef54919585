// The effective DestinationRule traffic policy for a (host, subset, port): host < subset < port level.
import type { TrafficPolicy, Subset, PortTrafficPolicy } from '../api/kinds/networking/destination-rule.js';
import type { DestinationRuleEntry } from './push-context.js';

/** The policy fields that a more specific level replaces as a whole (Istio does not deep-merge them). */
export interface EffectivePolicy {
  loadBalancer?: TrafficPolicy['loadBalancer'];
  connectionPool?: TrafficPolicy['connectionPool'];
  outlierDetection?: TrafficPolicy['outlierDetection'];
  tls?: TrafficPolicy['tls'];
}

function atPort(p: TrafficPolicy | undefined, port: number): EffectivePolicy {
  if (!p) return {};
  const out: EffectivePolicy = {
    loadBalancer: p.loadBalancer,
    connectionPool: p.connectionPool,
    outlierDetection: p.outlierDetection,
    tls: p.tls,
  };
  const pl: PortTrafficPolicy | undefined = p.portLevelSettings?.find((s) => s.port?.number === port);
  if (pl) {
    // A port-level setting replaces the level above for this port.
    if (pl.loadBalancer) out.loadBalancer = pl.loadBalancer;
    if (pl.connectionPool) out.connectionPool = pl.connectionPool;
    if (pl.outlierDetection) out.outlierDetection = pl.outlierDetection;
    if (pl.tls) out.tls = pl.tls;
  }
  return out;
}

/** The subset of a DestinationRule by name. */
export function findSubset(dr: DestinationRuleEntry | undefined, name: string): Subset | undefined {
  if (!dr || !name) return undefined;
  return dr.resource.spec.subsets?.find((s) => s.name === name);
}

/** Merges host-level and subset-level policy at `port`: subset fields override host fields. */
export function effectivePolicy(
  dr: DestinationRuleEntry | undefined,
  subset: string,
  port: number,
): EffectivePolicy {
  if (!dr) return {};
  const host = atPort(dr.resource.spec.trafficPolicy, port);
  const sub = findSubset(dr, subset);
  if (!sub?.trafficPolicy) return host;
  const s = atPort(sub.trafficPolicy, port);
  return {
    loadBalancer: s.loadBalancer ?? host.loadBalancer,
    connectionPool: s.connectionPool ?? host.connectionPool,
    outlierDetection: s.outlierDetection ?? host.outlierDetection,
    tls: s.tls ?? host.tls,
  };
}
