// The filter chains of one listener, without duplicates: Envoy rejects two chains with the same
// filter_chain_match, so the first chain to claim a match keeps it (first rule wins, as in Istio).
import type { envoy_config_listener_v3_FilterChain as FilterChain } from '../xds/envoy-types.js';

/** Collects chains in order, dropping server names (or whole matches) an earlier chain already claimed. */
export class ChainSet {
  readonly list: FilterChain[] = [];
  private readonly claimed = new Set<string>();

  add(chain: FilterChain): void {
    const m = chain.filterChainMatch ?? {};
    const { serverNames: names, ...rest } = m;
    const base = JSON.stringify(rest);
    if (names?.length) {
      const left = names.filter((n) => !this.claimed.has(`${base}\n${n}`));
      if (left.length === 0) return;
      for (const n of left) this.claimed.add(`${base}\n${n}`);
      this.list.push(
        left.length === names.length ? chain : { ...chain, filterChainMatch: { ...m, serverNames: left } },
      );
      return;
    }
    if (this.claimed.has(base)) return;
    this.claimed.add(base);
    this.list.push(chain);
  }

  /** True when some chain selects by SNI or terminates TLS (the listener needs the tls_inspector). */
  get inspectsTls(): boolean {
    return this.list.some(
      (c) => c.transportSocket !== undefined || (c.filterChainMatch?.serverNames?.length ?? 0) > 0,
    );
  }
}
