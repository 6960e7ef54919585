// A compiled listener filter chain: its match criteria and its terminal network filter (HCM or TCP proxy).
import { AccessLog } from '../http/access-log/access-log.js';
import { HcmConfig, type HcmContext } from '../http/hcm/hcm-config.js';
import { HttpConnectionManager } from '../http/hcm/connection-manager.js';
import { NetworkRbac } from '../tcp/network-rbac.js';
import { NetworkExtAuthz } from '../tcp/network-ext-authz.js';
import { TcpProxyConfig } from '../tcp/tcp-proxy.js';
import { IstioTcpStats } from '../tcp/istio-tcp-stats.js';
import { METADATA_EXCHANGE, MetadataExchange } from '../tcp/metadata-exchange/metadata-exchange.js';
import { anyTypeName, boolValue, durationMs } from '../util/values.js';
import { FilterChainMatch } from './filter-chain-match.js';
import { DownstreamTls } from './tls-context.js';
import type {
  envoy_config_listener_v3_Filter as NetworkFilterMessage,
  envoy_config_listener_v3_FilterChain as FilterChainMessage,
} from '../../xds/envoy-types.js';

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const RBAC_TYPE = 'envoy.extensions.filters.network.rbac.v3.RBAC';
const EXT_AUTHZ_TYPE = 'envoy.extensions.filters.network.ext_authz.v3.ExtAuthz';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** Network filters that observe but do not change what is forwarded; skipped when listed. */
const IGNORABLE_NETWORK = new Set([
  'envoy.filters.network.connection_limit',
  'envoy.filters.network.local_ratelimit',
]);

/** Everything needed to serve connections accepted by one chain. Immutable. */
export class FilterChain {
  readonly name: string;
  /** Compiled filter_chain_match (every criterion Envoy has; see filter-chain-match.ts). */
  readonly match: FilterChainMatch;
  readonly hcm: HttpConnectionManager | null;
  readonly tcp: TcpProxyConfig | null;
  /** TLS termination settings, or null for plaintext chains. */
  readonly tls: DownstreamTls | null;
  /** transport_socket_connect_timeout: how long the TLS handshake may take (ms); null = the listener's default. */
  readonly handshakeTimeoutMs: number | null;
  /** The HCM's codec: sniff the first bytes (AUTO) or force HTTP/1.1 / HTTP/2. */
  readonly codec: string;
  /** The canonical FilterChain (for change detection). */
  readonly json: string;

  constructor(fc: FilterChainMessage, ctx: HcmContext, defaultLogs: AccessLog[] | null, where: string) {
    this.name = fc.name ?? '';
    this.json = JSON.stringify(fc);
    // Accepting it would hand the PROXY header to the application as data.
    if (boolValue(fc.useProxyProto, false))
      throw new Error(`${where}.useProxyProto: PROXY protocol is not supported by this proxy`);
    // metadata (read by nobody but Envoy's own matchers and logs) and on_demand_configuration (this
    // proxy builds every chain when the listener arrives, which serves the same connections) are kept
    // only in `json`.
    this.tls = null;
    const ts = fc.transportSocket;
    if (ts) {
      const t = anyTypeName(ts.typedConfig);
      if (t === TLS_CONTEXT) {
        // The Any's fields are the DownstreamTlsContext its '@type' names.
        const tlsConfig: object = ts.typedConfig ?? {};
        try {
          this.tls = new DownstreamTls(tlsConfig, ctx.secrets ?? null);
        } catch (e) {
          throw new Error(`${where}.transportSocket.typedConfig.${(e as Error).message}`);
        }
      } else if (t !== RAW_BUFFER && (t || ts.name !== 'envoy.transport_sockets.raw_buffer')) {
        throw new Error(`${where}.transportSocket: unsupported transport socket ${t || ts.name}`);
      }
    }
    const timeout = durationMs(fc.transportSocketConnectTimeout, 0);
    this.handshakeTimeoutMs = timeout > 0 ? timeout : null;
    let hcm: HttpConnectionManager | null = null;
    let tcp: TcpProxyConfig | null = null;
    let codec = 'AUTO';
    const rbac: (NetworkRbac | NetworkExtAuthz)[] = [];
    let tcpStats: IstioTcpStats | null = null;
    let exchange: MetadataExchange | null = null;
    (fc.filters ?? []).forEach((f: NetworkFilterMessage, i) => {
      const t = anyTypeName(f.typedConfig);
      const name = f.name ?? '';
      const here = `${where}.filters[${i}] (${name})`;
      if (hcm || tcp) throw new Error(`${here}: a filter after the terminal filter`);
      // Extension config discovery (ECDS) would leave the filter without its config.
      if (f.configDiscovery)
        throw new Error(`${here}: configDiscovery (ECDS) is not supported by this proxy`);
      // The Any's fields are the message its '@type' (or, without one, the filter name) names.
      const typed: object = f.typedConfig ?? {};
      try {
        if (t === HCM_TYPE || (!t && name === 'envoy.filters.network.http_connection_manager')) {
          const cfg = new HcmConfig(typed, ctx);
          codec = cfg.codec;
          hcm = new HttpConnectionManager(cfg);
        } else if (t === TCP_TYPE || (!t && name === 'envoy.filters.network.tcp_proxy')) {
          tcp = new TcpProxyConfig(
            typed,
            ctx.store,
            ctx.source,
            defaultLogs,
            rbac,
            tcpStats,
            exchange,
            ctx.node ?? null,
          );
        } else if (t === RBAC_TYPE || (!t && name === 'envoy.filters.network.rbac')) {
          rbac.push(new NetworkRbac(typed, ctx.store));
        } else if (t === EXT_AUTHZ_TYPE || (!t && name === 'envoy.filters.network.ext_authz')) {
          rbac.push(new NetworkExtAuthz(typed, ctx.store, ctx.source));
        } else if (name === METADATA_EXCHANGE) {
          // Before an HCM it has nothing to do: HTTP exchanges metadata in headers (istio.stats).
          exchange = new MetadataExchange(typed, ctx.store);
        } else if (name === 'istio.stats') {
          tcpStats = new IstioTcpStats(typed, ctx.store, ctx.node ?? null);
        } else if (!IGNORABLE_NETWORK.has(name)) {
          throw new Error(`no network filter registered under this name or type ${t}`);
        }
      } catch (e) {
        throw new Error(`${here}: ${(e as Error).message}`);
      }
    });
    if (!hcm && !tcp) throw new Error(`${where}.filters: needs http_connection_manager or tcp_proxy`);
    if (hcm && rbac.length > 0)
      throw new Error(
        `${where}.filters: envoy.filters.network.rbac / ext_authz before an HCM is not supported; use the HTTP filters (envoy.filters.http.rbac, envoy.filters.http.ext_authz)`,
      );
    try {
      this.match = new FilterChainMatch(fc.filterChainMatch, this.tls !== null);
    } catch (e) {
      throw new Error(`${where}.${(e as Error).message}`);
    }
    this.hcm = hcm;
    this.tcp = tcp;
    this.codec = codec;
  }

  /** True when the chain needs to see the connection's first bytes (TLS, SNI, ALPN or sniffed protocol). */
  get needsInspection(): boolean {
    return this.match.needsInspection;
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
