// Sniffs the first bytes of a plaintext connection: the HTTP/2 connection preface means h2c prior knowledge.
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Waits for enough bytes to tell HTTP/2 from HTTP/1.x, puts them back, and calls `done(isHttp2)`. */
export function detectHttp2(socket: Socket, timeoutMs: number, done: (http2: boolean) => void): void {
  let buf: Buffer | null = null;
  let finished = false;
  const finish = (h2: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
    if (buf) socket.unshift(buf);
    done(h2);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const n = Math.min(buf.length, PREFACE.length);
    if (buf.subarray(0, n).equals(PREFACE.subarray(0, n))) {
      if (n === PREFACE.length) finish(true);
      return;
    }
    finish(false);
  };
  const onClose = (): void => {
    finished = true;
    clearTimeout(timer);
  };
  // A client that sends nothing is treated as HTTP/1.1 (the HTTP server's own timeouts apply).
  const timer = setTimeout(() => finish(false), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
}
