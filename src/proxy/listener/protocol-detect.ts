// Sniffs the first bytes of a plaintext connection: the HTTP/2 connection preface means h2c prior knowledge.
import type { Socket } from 'node:net';
import { matchesH2Preface, peekSocket } from './peek.js';

/** Waits for enough bytes to tell HTTP/2 from HTTP/1.x, puts them back, and calls `done(isHttp2)`. */
export function detectHttp2(socket: Socket, timeoutMs: number, done: (http2: boolean) => void): void {
  // A client that sends nothing is treated as HTTP/1.1 (the HTTP server's own timeouts apply).
  peekSocket(socket, timeoutMs, matchesH2Preface, false, done);
}
