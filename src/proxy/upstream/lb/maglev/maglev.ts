// MAGLEV: Google's Maglev consistent hashing (Envoy's weighted variant), a lookup table built once per host-set change.
import type { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import { u32 } from '../../../util/values.js';
import { combineHash, hash53, randomHash } from '../hash/xxhash64.js';
import { HOST_SELECTION_RETRIES, wasTried, type LbContext, type LoadBalancer } from '../load-balancer.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../../xds/envoy-types.js';

/** Envoy's default table size (a prime). */
export const DEFAULT_TABLE_SIZE = 65537;

/** Reads `cluster.maglevLbConfig.tableSize` (must be prime, as Envoy requires). */
export function maglevTableSize(cluster: ClusterConfig): number {
  const n = u32(cluster.maglevLbConfig?.tableSize, DEFAULT_TABLE_SIZE);
  if (!isPrime(n)) throw new Error(`maglevLbConfig.tableSize: ${n} is not a prime number`);
  return n;
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/**
 * Each host walks its own permutation of table slots (offset = xxHash64(ip:port, seed 0) mod M,
 * skip = xxHash64(ip:port, seed 1) mod (M-1) + 1) and claims the next free slot in turn, weighted
 * hosts more often; a request takes slot `hash mod M`. Removing a host changes about 1/N of slots.
 */
export class MaglevLoadBalancer implements LoadBalancer {
  private table: Host[] = [];

  constructor(readonly tableSize: number = DEFAULT_TABLE_SIZE) {}

  update(set: HostSet): void {
    const hosts = set.active;
    const m = this.tableSize;
    if (hosts.length === 0) {
      this.table = [];
      return;
    }
    let total = 0;
    for (const h of hosts) total += h.weight;
    let maxNorm = 0;
    const k = hosts.length;
    const offset = new Float64Array(k);
    const skip = new Float64Array(k);
    const next = new Float64Array(k);
    const weight = new Float64Array(k);
    const target = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      const key = hosts[i].key;
      offset[i] = hash53(key, 0) % m;
      skip[i] = (hash53(key, 1) % (m - 1)) + 1;
      weight[i] = hosts[i].weight / total;
      maxNorm = Math.max(maxNorm, weight[i]);
    }
    const table = new Array<Host | null>(m).fill(null);
    let filled = 0;
    for (let iteration = 1; filled < m; iteration++) {
      for (let i = 0; i < k && filled < m; i++) {
        // A host of weight maxNorm/3 claims a slot every third iteration.
        if (iteration * weight[i] < target[i]) continue;
        target[i] += maxNorm;
        let c = (offset[i] + skip[i] * next[i]) % m;
        while (table[c] !== null) {
          next[i]++;
          c = (offset[i] + skip[i] * next[i]) % m;
        }
        table[c] = hosts[i];
        next[i]++;
        filled++;
      }
    }
    this.table = table as Host[];
  }

  pick(ctx: LbContext): Host | null {
    const m = this.table.length;
    if (m === 0) return null;
    const key = ctx.hash !== undefined && ctx.hash >= 0 ? ctx.hash : randomHash();
    let h = this.table[key % m];
    // A retry re-hashes the key with the attempt number to land on another slot (Envoy does the same).
    for (let i = 1; i <= HOST_SELECTION_RETRIES && wasTried(ctx, h); i++)
      h = this.table[combineHash(key, i * 0x9e3779b1) % m];
    return h;
  }
}
