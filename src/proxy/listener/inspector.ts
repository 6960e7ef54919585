// Listener inspection (Envoy's tls_inspector + http_inspector): peeks at the first bytes of a
// connection without consuming them — TLS (SNI and ALPN from the ClientHello), plaintext HTTP/1.x,
// h2c prior knowledge, or other bytes.
import type { Socket } from 'node:net';
import { inspectClientHello, MAX_CLIENT_HELLO } from '../tls/client-hello.js';
import { matchesH2Preface, peekSocket } from './peek.js';

/** What the first bytes say about a connection. */
export interface Inspection {
  /** A TLS ClientHello arrived. */
  tls: boolean;
  /** SNI from the ClientHello, '' when none. */
  sni: string;
  /** ALPN offered in the ClientHello (TLS) or the sniffed protocol (`http/1.1`, `h2c`) for plaintext. */
  protocols: readonly string[];
}

const METHOD = /^[A-Z]{3,10} /;
const OPAQUE: Inspection = { tls: false, sni: '', protocols: [] };

/** Result of looking at a prefix: null = need more bytes. */
export function inspect(buf: Buffer): Inspection | null {
  if (buf.length === 0) return null;
  if (buf[0] === 0x16) {
    const h = inspectClientHello(buf);
    if (h.kind === 'more') return buf.length >= MAX_CLIENT_HELLO ? OPAQUE : null;
    if (h.kind === 'tls') return { tls: true, sni: h.sni.toLowerCase(), protocols: h.alpn };
    return OPAQUE;
  }
  const h2 = matchesH2Preface(buf);
  if (h2 !== false) return h2 ? { tls: false, sni: '', protocols: ['h2c'] } : null;
  const head = buf.subarray(0, Math.min(buf.length, 12)).toString('latin1');
  if (METHOD.test(head)) return { tls: false, sni: '', protocols: ['http/1.1'] };
  if (buf.length < 12 && /^[A-Z]*$/.test(head)) return null;
  return OPAQUE;
}

/** Reads until {@link inspect} decides (or `timeoutMs` passes), puts the bytes back, calls `done`. */
export function inspectSocket(socket: Socket, timeoutMs: number, done: (r: Inspection) => void): void {
  // Server-first protocols send nothing: after the timeout the connection is treated as opaque bytes.
  peekSocket(socket, timeoutMs, inspect, OPAQUE, done);
}
