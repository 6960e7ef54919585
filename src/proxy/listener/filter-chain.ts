// A compiled listener filter chain: its match criteria and its terminal network filter (HCM or TCP proxy).
import { AccessLog } from '../http/access-log/access-log.js';
import { HcmConfig, type HcmContext } from '../http/hcm/hcm-config.js';
import { HttpConnectionManager } from '../http/hcm/connection-manager.js';
import { TcpProxyConfig } from '../tcp/tcp-proxy.js';
import { anyTypeName } from '../util/values.js';
import type { Inspection } from './inspector.js';
import { DownstreamTls } from './tls-context.js';

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

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
  /** TLS termination settings, or null for plaintext chains. */
  readonly tls: DownstreamTls | null;
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
    this.tls = null;
    if (fc.transportSocket) {
      const t = anyTypeName(fc.transportSocket.typedConfig);
      if (t === TLS_CONTEXT) {
        try {
          this.tls = new DownstreamTls(fc.transportSocket.typedConfig, ctx.secrets ?? null);
        } catch (e) {
          throw new Error(`${where}.transportSocket.typedConfig.${(e as Error).message}`);
        }
      } else if (
        t !== RAW_BUFFER &&
        (t || fc.transportSocket.name !== 'envoy.transport_sockets.raw_buffer')
      ) {
        throw new Error(
          `${where}.transportSocket: unsupported transport socket ${t || fc.transportSocket.name}`,
        );
      }
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

  /** True when the chain needs to see the connection's first bytes (TLS, SNI, ALPN or sniffed protocol). */
  get needsInspection(): boolean {
    const m = this.match;
    return (
      this.tls !== null ||
      m.serverNames.length > 0 ||
      m.transportProtocol !== '' ||
      m.applicationProtocols.length > 0
    );
  }

  /**
   * How specifically the chain matches a connection to local `port` (Envoy's order: destination
   * port, server name, transport protocol, application protocol), or -1 when it does not match.
   * `insp` is null when the listener did not inspect the connection (plaintext assumed).
   */
  score(port: number, insp: Inspection | null): number {
    const m = this.match;
    const tls = insp?.tls === true;
    let s = 0;
    if (m.destinationPort !== 0) {
      if (m.destinationPort !== port) return -1;
      s += 1000;
    }
    if (m.serverNames.length > 0) {
      if (!tls) return -1;
      const sni = insp.sni;
      if (m.serverNames.includes(sni)) s += 100;
      else if (m.serverNames.some((n) => n.startsWith('*.') && sni.endsWith(n.slice(1)))) s += 50;
      else return -1;
    }
    if (m.transportProtocol !== '') {
      if ((m.transportProtocol === 'tls') !== tls) return -1;
      s += 10;
    } else if (this.tls !== null && !tls) return -1;
    if (m.applicationProtocols.length > 0) {
      if (!insp || !m.applicationProtocols.some((p) => insp.protocols.includes(p))) return -1;
      s += 1;
    }
    return s;
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
