// Factory: a cluster's lb_policy name → its LoadBalancer. New policies add one line here and a folder.
import { u32 } from '../../util/values.js';
import { LeastRequestLoadBalancer } from './least-request/least-request.js';
import type { LoadBalancer } from './load-balancer.js';
import { RandomLoadBalancer } from './random/random.js';
import { RoundRobinLoadBalancer } from './round-robin/round-robin.js';

/** Builds the load balancer for a canonical Cluster (`lbPolicy`, default ROUND_ROBIN as in Envoy). */
export function createLoadBalancer(cluster: any): LoadBalancer {
  const policy = String(cluster.lbPolicy ?? 'ROUND_ROBIN');
  switch (policy) {
    case 'LEAST_REQUEST':
      return new LeastRequestLoadBalancer(Math.max(2, u32(cluster.leastRequestLbConfig?.choiceCount, 2)));
    case 'RANDOM':
      return new RandomLoadBalancer();
    default:
      // RING_HASH / MAGLEV arrive with hash_policy support; until then they behave like round robin.
      return new RoundRobinLoadBalancer();
  }
}
