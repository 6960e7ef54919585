// A compiled listener filter chain: its match criteria and its terminal network filter (HCM or TCP proxy).
import { AccessLog } from '../http/access-log/access-log.js';
import { HcmConfig, type HcmContext } from '../http/hcm/hcm-config.js';
import { HttpConnectionManager } from '../http/hcm/connection-manager.js';
import { TcpProxyConfig } from '../tcp/tcp-proxy.js';
import { anyTypeName } from '../util/values.js';

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Network filters that observe but do not change what is forwarded; skipped when listed. */
const IGNORABLE_NETWORK = new Set([
  'istio.metadata_exchange',
  'istio.stats',
  'envoy.filters.network.connection_limit',
  'envoy.filters.network.local_ratelimit',
]);

/** Compiled filter_chain_match (only the parts Mizzen evaluates today; the rest block the chain). */
export interface ChainMatch {
  /** Local (destination) port the chain applies to, 0 = any. */
  readonly destinationPort: number;
  /** SNI names; a non-empty list never matches plaintext. */
  readonly serverNames: readonly string[];
  /** 'raw_buffer', 'tls' or '' (any). */
  readonly transportProtocol: string;
  /** ALPN/sniffed protocols required ('' list = any). */
  readonly applicationProtocols: readonly string[];
}

/** Everything needed to serve connections accepted by one chain. Immutable. */
export class FilterChain {
  readonly name: string;
  readonly match: ChainMatch;
  readonly hcm: HttpConnectionManager | null;
  readonly tcp: TcpProxyConfig | null;
  /** The HCM's codec: sniff the first bytes (AUTO) or force HTTP/1.1 / HTTP/2. */
  readonly codec: string;
  /** The canonical FilterChain (for change detection). */
  readonly json: string;

  constructor(fc: any, ctx: HcmContext, defaultLogs: AccessLog[] | null, where: string) {
    this.name = String(fc.name ?? '');
    this.json = JSON.stringify(fc);
    const m = fc.filterChainMatch ?? {};
    this.match = {
      destinationPort: Number(m.destinationPort?.value ?? m.destinationPort ?? 0),
      serverNames: (m.serverNames ?? []) as string[],
      transportProtocol: String(m.transportProtocol ?? ''),
      applicationProtocols: (m.applicationProtocols ?? []) as string[],
    };
    if (
      fc.transportSocket &&
      anyTypeName(fc.transportSocket.typedConfig) !==
        'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer'
    ) {
      throw new Error(
        `${where}.transportSocket: TLS transport sockets are not supported yet (${fc.transportSocket.name ?? ''})`,
      );
    }
    let hcm: HttpConnectionManager | null = null;
    let tcp: TcpProxyConfig | null = null;
    let codec = 'AUTO';
    const filters = (fc.filters ?? []) as any[];
    filters.forEach((f, i) => {
      const t = anyTypeName(f.typedConfig);
      const name = String(f.name ?? '');
      const here = `${where}.filters[${i}] (${name})`;
      if (hcm || tcp) throw new Error(`${here}: a filter after the terminal filter`);
      try {
        if (t === HCM_TYPE || (!t && name === 'envoy.filters.network.http_connection_manager')) {
          const cfg = new HcmConfig(f.typedConfig ?? {}, ctx);
          codec = cfg.codec;
          hcm = new HttpConnectionManager(cfg);
        } else if (t === TCP_TYPE || (!t && name === 'envoy.filters.network.tcp_proxy')) {
          tcp = new TcpProxyConfig(f.typedConfig ?? {}, ctx.store, ctx.source, defaultLogs);
        } else if (!IGNORABLE_NETWORK.has(name)) {
          throw new Error(`no network filter registered under this name or type ${t}`);
        }
      } catch (e) {
        throw new Error(`${here}: ${(e as Error).message}`);
      }
    });
    if (!hcm && !tcp) throw new Error(`${where}.filters: needs http_connection_manager or tcp_proxy`);
    this.hcm = hcm;
    this.tcp = tcp;
    this.codec = codec;
  }

  /** True when the chain accepts a plaintext connection on `port`. */
  matchesPlain(port: number): boolean {
    const m = this.match;
    return (
      (m.destinationPort === 0 || m.destinationPort === port) &&
      m.serverNames.length === 0 &&
      (m.transportProtocol === '' || m.transportProtocol === 'raw_buffer')
    );
  }

  /** Starts draining connections served by this chain. */
  drain(): void {
    this.hcm?.drain();
  }

  /** Closes every connection of this chain. */
  close(): void {
    this.hcm?.close();
  }
}
