// Peeks at the first bytes of a connection without consuming them: reads until a decision is possible (or a
// timeout passes), puts the bytes back and pauses the socket for whoever takes it over.
import type { Socket } from 'node:net';

/** The HTTP/2 connection preface (RFC 9113 §3.4), the mark of h2c with prior knowledge. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Whether `buf` starts with the HTTP/2 preface: true, false, or null while the prefix still matches. */
export function matchesH2Preface(buf: Buffer): boolean | null {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (!buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return false;
  return n === H2_PREFACE.length ? true : null;
}

/**
 * Reads until `decide` returns non-null for the bytes so far (or `timeoutMs` passes: `onTimeout`), then
 * unshifts the bytes, pauses the socket and calls `done`. Nothing is called if the socket closes first.
 */
export function peekSocket<T>(
  socket: Socket,
  timeoutMs: number,
  decide: (buf: Buffer) => T | null,
  onTimeout: T,
  done: (result: T) => void,
): void {
  let buf: Buffer | null = null;
  let finished = false;
  const finish = (r: T): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
    if (buf) socket.unshift(buf);
    done(r);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const r = decide(buf);
    if (r !== null) finish(r);
  };
  const onClose = (): void => {
    finished = true;
    clearTimeout(timer);
  };
  const timer = setTimeout(() => finish(onTimeout), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
}
