// Factory: a cluster's lb_policy name → its LoadBalancer. New policies add one line here and a folder.
import { ConfigError, u32 } from '../../util/values.js';
import { LeastRequestLoadBalancer } from './least-request/least-request.js';
import type { LoadBalancer } from './load-balancer.js';
import { MaglevLoadBalancer, maglevTableSize } from './maglev/maglev.js';
import { OriginalDstLoadBalancer, originalDstConfig } from './original-dst/original-dst.js';
import { PriorityLoadBalancer } from './priority/priority-lb.js';
import { RandomLoadBalancer } from './random/random.js';
import { RingHashLoadBalancer, ringHashConfig } from './ring-hash/ring-hash.js';
import { RoundRobinLoadBalancer } from './round-robin/round-robin.js';
import { slowStartFrom } from './slow-start/slow-start.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../xds/envoy-types.js';

/**
 * Builds the load balancer for a canonical Cluster: `lbPolicy` (default ROUND_ROBIN as in Envoy; Istio's
 * UNSPECIFIED arrives as LEAST_REQUEST) behind priority/locality selection. ORIGINAL_DST clusters get
 * the original-destination balancer. `now` is the monotonic clock (tests inject one).
 */
export function createLoadBalancer(cluster: ClusterConfig, now?: () => number): LoadBalancer {
  if (cluster.type === 'ORIGINAL_DST' || cluster.lbPolicy === 'CLUSTER_PROVIDED')
    return new OriginalDstLoadBalancer(originalDstConfig(cluster), now);
  const policy = String(cluster.lbPolicy ?? 'ROUND_ROBIN');
  const name = String(cluster.name ?? '');
  let make: () => LoadBalancer;
  let hashBased = false;
  let slowStart = false;
  switch (policy) {
    case 'LEAST_REQUEST': {
      const choices = Math.max(2, u32(cluster.leastRequestLbConfig?.choiceCount, 2));
      make = () => new LeastRequestLoadBalancer(choices);
      slowStart = true;
      break;
    }
    case 'RANDOM':
      make = () => new RandomLoadBalancer();
      break;
    case 'RING_HASH': {
      const cfg = ringHashConfig(cluster);
      make = () => new RingHashLoadBalancer(cfg);
      hashBased = true;
      break;
    }
    case 'MAGLEV': {
      let size: number;
      try {
        size = maglevTableSize(cluster);
      } catch (e) {
        throw new ConfigError(name, 'maglevLbConfig.tableSize', (e as Error).message);
      }
      make = () => new MaglevLoadBalancer(size);
      hashBased = true;
      break;
    }
    case 'ROUND_ROBIN':
      make = () => new RoundRobinLoadBalancer();
      slowStart = true;
      break;
    default:
      throw new ConfigError(name, 'lbPolicy', `unsupported lb_policy ${policy}`);
  }
  return new PriorityLoadBalancer({
    make,
    hashBased,
    localityWeighted: cluster.commonLbConfig?.localityWeightedLbConfig !== undefined,
    slowStart: slowStart ? slowStartFrom(cluster, now) : null,
  });
}
