// envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext: TLS origination on a cluster's
// connections (SNI, client certificate for mutual TLS, CA and SAN verification, ALPN).
import { constants } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type {
  envoy_config_core_v3_TransportSocket as TransportSocket,
  envoy_extensions_transport_sockets_tls_v3_UpstreamTlsContext as UpstreamTlsContext,
} from '../../xds/envoy-types.js';
import { logger } from '../log.js';
import { anyTypeName, boolValue, u32 } from '../util/values.js';
import { CommonTlsContext } from './common-tls-context.js';
import type { SecretLookup } from './secret-manager.js';

const log = logger('upstream');

const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

/** A cluster's compiled upstream TLS settings. */
export class UpstreamTls {
  /** SNI sent ('' = none). */
  readonly sni: string;
  readonly common: CommonTlsContext;

  /** Compiles a canonical UpstreamTlsContext; throws Error naming the field. */
  constructor(cfg: UpstreamTlsContext, secrets: SecretLookup | null) {
    this.sni = cfg.sni ?? '';
    // OpenSSL checks only that an RSA server certificate's key usage allows some TLS use, not the one
    // the negotiated key exchange needs, which is what Envoy's enforce_rsa_key_usage adds.
    if (boolValue(cfg.enforceRsaKeyUsage, false))
      throw new Error('enforceRsaKeyUsage: true is not supported by this proxy');
    // Every connection makes a full handshake (Envoy's max_session_keys: 0). Resumption only saves
    // handshake time, so an explicit non-zero value is warned about rather than refused.
    if (cfg.maxSessionKeys !== undefined && u32(cfg.maxSessionKeys, 1) > 0)
      log.warn(
        `maxSessionKeys: ${u32(cfg.maxSessionKeys, 1)} is not enforced: this proxy does not resume TLS sessions (every upstream connection makes a full handshake)`,
      );
    // Envoy's client defaults: TLS 1.2 to 1.3, and a server's renegotiation request refused unless
    // allow_renegotiation (Node's client would otherwise renegotiate).
    this.common = new CommonTlsContext(cfg.commonTlsContext, secrets, {
      min: 'TLSv1.2',
      max: 'TLSv1.3',
      secureOptions: cfg.allowRenegotiation === true ? 0 : constants.SSL_OP_NO_RENEGOTIATION,
    });
  }

  /**
   * Opens a TLS connection to `address:port`. The socket emits `secureConnect` once the handshake and
   * every configured check (CA chain, SAN rules, pins) passed; otherwise it is destroyed with the reason.
   */
  connect(address: string, port: number, http2: boolean): Socket {
    const r = this.common.resolve();
    if (r instanceof Error) {
      // No usable secret yet: fail like a connection failure, asynchronously as sockets do.
      const s = new Socket();
      process.nextTick(() => s.destroy(r));
      return s;
    }
    const alpn = this.common.alpn.length > 0 ? [...this.common.alpn] : http2 ? ['h2'] : undefined;
    const sock: TLSSocket = tlsConnect({
      host: address,
      port,
      servername: this.sni && !isIP(this.sni) ? this.sni : undefined,
      secureContext: r.context,
      ALPNProtocols: alpn,
      rejectUnauthorized: r.verifyChain,
      // Envoy checks SAN rules (not the host name) when configured, and nothing else.
      checkServerIdentity: (_host, cert) => {
        const why = r.checkPeer(cert);
        return why === null ? undefined : Object.assign(new Error(why), { code: 'ERR_TLS_SAN_MISMATCH' });
      },
    });
    sock.setNoDelay(true);
    return sock;
  }
}

/** The cluster's UpstreamTls from its transport_socket, null for plaintext. Throws naming the field. */
export function compileUpstreamTransport(
  ts: TransportSocket | null | undefined,
  secrets: SecretLookup | null,
): UpstreamTls | null {
  if (!ts) return null;
  const t = anyTypeName(ts.typedConfig);
  if (t === RAW_BUFFER || (!t && ts.name === 'envoy.transport_sockets.raw_buffer')) return null;
  if (t !== UPSTREAM_TLS)
    throw new Error(`transportSocket: unsupported transport socket ${t || ts.name || ''}`);
  try {
    return new UpstreamTls(ts.typedConfig as UpstreamTlsContext, secrets);
  } catch (e) {
    throw new Error(`transportSocket.typedConfig.${(e as Error).message}`);
  }
}
