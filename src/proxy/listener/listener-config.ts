// Compiles a canonical Listener: address, bind_to_port, filter chains and the default chain.
import type { AccessLog } from '../http/access-log/access-log.js';
import type { HcmContext } from '../http/hcm/hcm-config.js';
import { ConfigError, boolValue, socketAddress } from '../util/values.js';
import { FilterChain } from './filter-chain.js';
import { selectChain, type ConnectionFacts } from './filter-chain-match.js';
import type {
  envoy_config_listener_v3_FilterChain as FilterChainMessage,
  envoy_config_listener_v3_Listener as ListenerMessage,
} from '../../xds/envoy-types.js';

/** Envoy's original_dst listener filter (and its deprecated name). */
const ORIGINAL_DST_FILTER = new Set(['envoy.filters.listener.original_dst', 'envoy.listener.original_dst']);

function hasListenerFilter(config: ListenerMessage, names: ReadonlySet<string>): boolean {
  return (config.listenerFilters ?? []).some((f) => names.has(String(f?.name ?? '')));
}

/** An immutable compiled listener. */
export class ListenerConfig {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** False for Istio's virtual listeners that only receive handed-off connections. */
  readonly bind: boolean;
  readonly chains: readonly FilterChain[];
  readonly defaultChain: FilterChain | null;
  /** Some chain matches on TLS/SNI/ALPN/sniffed protocol: connections are inspected first. */
  readonly needsInspection: boolean;
  /** use_original_dst: hand connections to the listener of their original destination (virtualOutbound). */
  readonly useOriginalDst: boolean;
  /** The original destination is looked up (use_original_dst or the original_dst listener filter). */
  readonly needsOriginalDst: boolean;

  constructor(
    /** The canonical Listener. */
    readonly config: ListenerMessage,
    ctx: HcmContext,
    defaultLogs: AccessLog[] | null,
    /** Chains of the previous version by canonical JSON: unchanged chains are reused, not rebuilt. */
    reuse: ReadonlyMap<string, FilterChain> | null = null,
  ) {
    this.name = String(config.name ?? '');
    if (!this.name) throw new ConfigError('(unnamed listener)', 'name', 'listener name is required');
    const sa = socketAddress(config.address);
    if (!sa) throw new ConfigError(this.name, 'address.socketAddress', 'only socket addresses are supported');
    this.address = sa.address;
    this.port = sa.port;
    this.bind = boolValue(config.bindToPort, true) && config.deprecatedV1?.bindToPort?.value !== false;
    // HCM tracing makes SERVER spans on inbound listeners (Envoy's Ingress operation).
    const chainCtx: HcmContext =
      config.trafficDirection === 'INBOUND' ? { ...ctx, trafficDirection: 'INBOUND' } : ctx;
    try {
      const build = (fc: FilterChainMessage, where: string): FilterChain =>
        reuse?.get(JSON.stringify(fc)) ?? new FilterChain(fc, chainCtx, defaultLogs, where);
      this.chains = (config.filterChains ?? []).map((fc, i) => build(fc, `filterChains[${i}]`));
      this.defaultChain = config.defaultFilterChain
        ? build(config.defaultFilterChain, 'defaultFilterChain')
        : null;
    } catch (e) {
      const msg = (e as Error).message;
      const i = msg.indexOf(': ');
      throw new ConfigError(this.name, i > 0 ? msg.slice(0, i) : '', i > 0 ? msg.slice(i + 2) : msg);
    }
    if (this.chains.length === 0 && !this.defaultChain)
      throw new ConfigError(this.name, 'filterChains', 'no filter chains');
    this.needsInspection = this.allChains().some((c) => c.needsInspection);
    this.useOriginalDst = boolValue(config.useOriginalDst, false);
    this.needsOriginalDst = this.useOriginalDst || hasListenerFilter(config, ORIGINAL_DST_FILTER);
  }

  /** The chain for a connection (Envoy's filter chain match, see filter-chain-match.ts), else the default chain. */
  select(facts: ConnectionFacts): FilterChain | null {
    return selectChain(this.chains, facts) ?? this.defaultChain;
  }

  /** Every chain (for draining). */
  allChains(): FilterChain[] {
    return this.defaultChain ? [...this.chains, this.defaultChain] : [...this.chains];
  }
}
