// Envoy's x-forwarded-client-cert handling (HCM forward_client_cert_details and
// set_current_client_cert_details): what happens to an incoming XFCC header, and the element the proxy
// adds for a client that presented a verified certificate. Istio's sidecar inbound uses APPEND_FORWARD
// with the URI, so the app sees the caller's SPIFFE id.
import type { envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager } from '../../../xds/envoy-types.js';

/** The header name. */
export const XFCC = 'x-forwarded-client-cert';

/** Compiled XFCC settings of one HCM. */
export class XfccConfig {
  /** SANITIZE (Envoy's default), FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET or ALWAYS_FORWARD_ONLY. */
  readonly mode: string;
  /** set_current_client_cert_details.uri: add `URI=<peer SAN>`. */
  readonly uri: boolean;

  constructor(config: HttpConnectionManager) {
    this.mode = String(config.forwardClientCertDetails ?? 'SANITIZE');
    this.uri = config.setCurrentClientCertDetails?.uri === true;
  }

  /** Rewrites the header for a request that arrived with (or without) a verified peer identity. */
  apply(h: Record<string, string | string[] | undefined>, tls: boolean, peerPrincipal: string): void {
    const m = this.mode;
    if (m === 'ALWAYS_FORWARD_ONLY') return;
    // Without mutual TLS, only FORWARD_ONLY keeps the header; everything else drops it (Envoy).
    if (!tls || peerPrincipal === '') {
      if (m !== 'FORWARD_ONLY') delete h[XFCC];
      return;
    }
    if (m === 'SANITIZE') delete h[XFCC];
    else if (m === 'APPEND_FORWARD' || m === 'SANITIZE_SET') {
      const mine = this.uri ? `URI=${peerPrincipal}` : '';
      if (!mine) return;
      const prev = h[XFCC];
      h[XFCC] =
        m === 'APPEND_FORWARD' && prev !== undefined
          ? `${Array.isArray(prev) ? prev.join(',') : prev},${mine}`
          : mine;
    }
  }
}
