// Server-side ALPN selection as Envoy (BoringSSL) does it: the first of the chain's alpn_protocols the
// client offers. Where they share none, Envoy goes on without ALPN; Node can only pick one of the
// client's values or refuse the handshake, so the client's first value is picked — except Istio's
// `istio-peer-exchange`, which would make the client start a metadata exchange this chain did not
// agree to (then the handshake is refused, as Node does by default).
/** The ALPN value that starts Istio's TCP metadata exchange. */
const PEER_EXCHANGE = 'istio-peer-exchange';

/** Picks the negotiated protocol, or undefined to refuse the handshake. */
export type AlpnCallback = (info: { servername: string; protocols: string[] }) => string | undefined;

const callbacks = new WeakMap<readonly string[], AlpnCallback>();

/** The ALPNCallback of a chain accepting `serverAlpn` (in preference order); one per list. */
export function alpnCallbackFor(serverAlpn: readonly string[]): AlpnCallback {
  let cb = callbacks.get(serverAlpn);
  if (cb === undefined) {
    cb = ({ protocols }) => {
      for (const p of serverAlpn) if (protocols.includes(p)) return p;
      for (const p of protocols) if (p !== PEER_EXCHANGE) return p;
      return undefined;
    };
    callbacks.set(serverAlpn, cb);
  }
  return cb;
}
