// Server-side TLS of a filter chain (envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext),
// built on the shared CommonTlsContext (inline, file or SDS certificates; CA, SAN and pin checks).
import { firstUriSan } from '../tls/uri-san.js';
import type { TLSSocket } from 'node:tls';
import { CommonTlsContext, type ResolvedTls } from '../tls/common-tls-context.js';
import type { SecretLookup } from '../tls/secret-manager.js';
import { boolValue } from '../util/values.js';
import type { envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext as DownstreamTlsContext } from '../../xds/envoy-types.js';

/** Compiled server-side TLS settings of a filter chain. */
export class DownstreamTls {
  readonly common: CommonTlsContext;
  readonly requireClientCert: boolean;

  /** Compiles a canonical DownstreamTlsContext; throws Error naming the field. */
  constructor(cfg: DownstreamTlsContext, secrets: SecretLookup | null) {
    // Envoy's server defaults: TLS 1.2 to 1.3.
    this.common = new CommonTlsContext(cfg.commonTlsContext, secrets, { min: 'TLSv1.2', max: 'TLSv1.3' });
    if (!this.common.hasCertificates)
      throw new Error('commonTlsContext.tlsCertificates: a server certificate is required');
    this.requireClientCert = boolValue(cfg.requireClientCertificate, false);
  }

  /** ALPN protocols the server accepts, in preference order (empty: no ALPN). */
  get alpn(): readonly string[] {
    return this.common.alpn;
  }

  /** The current context, or an Error while an SDS secret is missing. */
  resolve(): ResolvedTls | Error {
    return this.common.resolve();
  }

  /**
   * The peer's verified identity: the first URI SAN of its certificate when a trusted CA is configured
   * and the chain verified against it, else ''. (Sockets wrapped by hand never set `authorized`.)
   */
  peerPrincipal(t: TLSSocket, r: ResolvedTls): string {
    if (!r.verifyChain) return '';
    const err = (t as unknown as { _handle?: { verifyError?: () => Error | null } })._handle?.verifyError?.();
    if (err !== null && err !== undefined) return '';
    return firstUriSan(t.getPeerCertificate()?.subjectaltname);
  }

  /** Why a finished handshake must be refused (client certificate checks), or null. */
  checkClient(t: TLSSocket, r: ResolvedTls): string | null {
    if (!r.verifyChain && !r.hasPeerChecks) return null;
    const cert = t.getPeerCertificate();
    const present = !!cert && Object.keys(cert).length > 0;
    if (!present) return this.requireClientCert ? 'client certificate required' : null;
    if (r.verifyChain) {
      // tls.Server sets `authorized` from the handle's verify result; sockets wrapped by hand ask it the same way.
      const err = (
        t as unknown as { _handle?: { verifyError?: () => Error | null } }
      )._handle?.verifyError?.();
      if (err) return `client certificate not trusted: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
    }
    return r.checkPeer(cert);
  }
}
