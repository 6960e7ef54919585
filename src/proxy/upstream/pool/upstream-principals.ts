// The SPIFFE identities of an upstream mutual TLS connection, as Istio's source-side metrics name them
// (Envoy's upstream uri_san_peer_certificate / uri_san_local_certificate): the first URI SAN of the
// verified peer certificate and of our own. Read once per connection, after its handshake.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { firstUriSan } from '../../tls/uri-san.js';

export interface UpstreamPrincipals {
  /** The server's identity; '' when the connection is not TLS, not verified, or has no URI SAN. */
  readonly peer: string;
  /** Ours, as presented to the server; '' without a client certificate. */
  readonly local: string;
}

export const NO_PRINCIPALS: UpstreamPrincipals = { peer: '', local: '' };

const CACHED = Symbol('mizzen.upstreamPrincipals');
type Cached = Socket & { [CACHED]?: UpstreamPrincipals };

/** The principals of `sock` once its TLS handshake finished (NO_PRINCIPALS for plaintext or before). */
export function upstreamPrincipals(sock: Socket | null): UpstreamPrincipals {
  if (!(sock instanceof TLSSocket) || !sock.encrypted) return NO_PRINCIPALS;
  const c = sock as Cached;
  if (c[CACHED] !== undefined) return c[CACHED];
  // Only a verified chain names a peer (a connection without a trust anchor proves nothing).
  if (!sock.authorized) return (c[CACHED] = NO_PRINCIPALS);
  const p: UpstreamPrincipals = {
    peer: firstUriSan(sock.getPeerCertificate()?.subjectaltname),
    local: firstUriSan((sock.getCertificate() as { subjectaltname?: string } | null)?.subjectaltname),
  };
  c[CACHED] = p;
  return p;
}
