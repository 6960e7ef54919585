// Listener inspection (Envoy's tls_inspector + http_inspector): peeks at the first bytes of a
// connection without consuming them — TLS (SNI and ALPN from the ClientHello), plaintext HTTP/1.x,
// h2c prior knowledge, or other bytes.
import type { Socket } from 'node:net';
import { inspectClientHello, MAX_CLIENT_HELLO } from '../tls/client-hello.js';

/** What the first bytes say about a connection. */
export interface Inspection {
  /** A TLS ClientHello arrived. */
  tls: boolean;
  /** SNI from the ClientHello, '' when none. */
  sni: string;
  /** ALPN offered in the ClientHello (TLS) or the sniffed protocol (`http/1.1`, `h2c`) for plaintext. */
  protocols: readonly string[];
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
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
  const n = Math.min(buf.length, PREFACE.length);
  if (buf.subarray(0, n).equals(PREFACE.subarray(0, n))) {
    return n === PREFACE.length ? { tls: false, sni: '', protocols: ['h2c'] } : null;
  }
  const head = buf.subarray(0, Math.min(buf.length, 12)).toString('latin1');
  if (METHOD.test(head)) return { tls: false, sni: '', protocols: ['http/1.1'] };
  if (buf.length < 12 && /^[A-Z]*$/.test(head)) return null;
  return OPAQUE;
}

/** Reads until {@link inspect} decides (or `timeoutMs` passes), puts the bytes back, calls `done`. */
export function inspectSocket(socket: Socket, timeoutMs: number, done: (r: Inspection) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (r: Inspection): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
    if (buf.length > 0) socket.unshift(buf);
    done(r);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const r = inspect(buf);
    if (r) finish(r);
  };
  const onClose = (): void => {
    finished = true;
    clearTimeout(timer);
  };
  // Server-first protocols send nothing: after the timeout the connection is treated as opaque bytes.
  const timer = setTimeout(() => finish(OPAQUE), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
}
