// Parses the TLS ClientHello at the start of a connection (what Envoy's tls_inspector reads): SNI
// and ALPN, without terminating TLS. Works on the raw bytes; never throws on malformed input.

/** Result of inspecting the first bytes of a connection. */
export type HelloResult =
  /** More bytes are needed to decide. */
  | { readonly kind: 'more' }
  /** The bytes are not a TLS handshake (plaintext). */
  | { readonly kind: 'plain' }
  /** A TLS ClientHello: its server name ('' when none) and ALPN protocols. */
  | { readonly kind: 'tls'; readonly sni: string; readonly alpn: readonly string[] };

const MORE: HelloResult = { kind: 'more' };
const PLAIN: HelloResult = { kind: 'plain' };

/** Largest ClientHello inspected, bytes (Envoy's tls_inspector max_client_hello_size default, 64 KiB). */
export const MAX_CLIENT_HELLO = 64 * 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/**
 * Inspects `buf` (everything received so far). A handshake split over several TLS records is
 * reassembled. Anything that is not a well-formed ClientHello counts as plaintext, as in Envoy
 * (the transport protocol stays `raw_buffer`).
 */
export function inspectClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return MORE;
  if (buf[0] !== RECORD_HANDSHAKE) return PLAIN;
  if (buf.length >= 2 && buf[1] !== 3) return PLAIN;
  // Reassemble handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (off + 5 > buf.length) return buf.length > MAX_CLIENT_HELLO ? PLAIN : MORE;
    if (buf[off] !== RECORD_HANDSHAKE || buf[off + 1] !== 3) return PLAIN;
    const len = buf.readUInt16BE(off + 3);
    if (len === 0) return PLAIN;
    if (off + 5 + len > buf.length) {
      // Take what is there: the header may already show it is no ClientHello.
      if (need < 0 && have === 0 && buf.length > off + 5 && buf[off + 5] !== HANDSHAKE_CLIENT_HELLO)
        return PLAIN;
      return buf.length > MAX_CLIENT_HELLO ? PLAIN : MORE;
    }
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return PLAIN;
      need = 4 + hs.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO) return PLAIN;
    }
  }
  const hs = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  return parseHello(hs.subarray(4, need)) ?? PLAIN;
}

/** Parses a ClientHello body; null when malformed. */
function parseHello(b: Buffer): HelloResult | null {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return null;
  p += 1 + b[p]; // session id
  if (p + 2 > b.length) return null;
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (p + 1 > b.length) return null;
  p += 1 + b[p]; // compression methods
  let sni = '';
  const alpn: string[] = [];
  if (p === b.length) return { kind: 'tls', sni, alpn };
  if (p + 2 > b.length) return null;
  const end = p + 2 + b.readUInt16BE(p);
  p += 2;
  if (end > b.length) return null;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return null;
    const ext = b.subarray(p, p + len);
    if (type === EXT_SERVER_NAME) sni = serverName(ext);
    else if (type === EXT_ALPN) alpn.push(...protocols(ext));
    p += len;
  }
  return { kind: 'tls', sni, alpn };
}

/** The host_name entry of a server_name extension ('' when none). */
function serverName(ext: Buffer): string {
  if (ext.length < 2) return '';
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = ext[p];
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > end) return '';
    if (type === 0) return ext.toString('latin1', p, p + len).toLowerCase();
    p += len;
  }
  return '';
}

/** The protocol names of an ALPN extension. */
function protocols(ext: Buffer): string[] {
  const out: string[] = [];
  if (ext.length < 2) return out;
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p < end) {
    const len = ext[p];
    p += 1;
    if (len === 0 || p + len > end) break;
    out.push(ext.toString('latin1', p, p + len));
    p += len;
  }
  return out;
}
