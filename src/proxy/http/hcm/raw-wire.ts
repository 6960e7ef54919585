// Test helpers that speak raw bytes: HTTP/2 frames (with a minimal HPACK literal encoder), a socket
// exchange that collects the reply.
import { connect } from 'node:net';

/** The HTTP/2 client connection preface. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** HTTP/2 frame types (RFC 9113 §6). */
export const FrameType = {
  Data: 0,
  Headers: 1,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  Goaway: 7,
  WindowUpdate: 8,
  Continuation: 9,
} as const;

/** One HTTP/2 frame. */
export function h2Frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** A 32-bit big-endian value (RST_STREAM code, WINDOW_UPDATE increment). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** HPACK: every header as a literal without indexing, new name (RFC 7541 §6.2.2); values < 127 bytes. */
export function hpack(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of headers) {
    parts.push(Buffer.from([0x00, k.length]), Buffer.from(k), Buffer.from([v.length]), Buffer.from(v));
  }
  return Buffer.concat(parts);
}

/** Preface + empty SETTINGS + a HEADERS frame (END_HEADERS, plus END_STREAM when `endStream`). */
export function h2Request(
  method: string,
  path: string,
  extra: [string, string][] = [],
  endStream = true,
  streamId = 1,
): Buffer {
  const block = hpack([
    [':method', method],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'test.local'],
    ...extra,
  ]);
  return Buffer.concat([
    H2_PREFACE,
    h2Frame(FrameType.Settings, 0, 0),
    h2Frame(FrameType.Headers, endStream ? 0x5 : 0x4, streamId, block),
  ]);
}

/** Frames parsed from a server's byte stream (incomplete tail ignored). */
export function parseFrames(
  buf: Buffer,
): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const out = [];
  let i = 0;
  while (i + 9 <= buf.length) {
    const len = buf.readUIntBE(i, 3);
    if (i + 9 + len > buf.length) break;
    out.push({
      type: buf[i + 3],
      flags: buf[i + 4],
      streamId: buf.readUInt32BE(i + 5) & 0x7fffffff,
      payload: buf.subarray(i + 9, i + 9 + len),
    });
    i += 9 + len;
  }
  return out;
}

/**
 * Writes `bytes` in one write and collects what comes back until `done(received)` says so, the peer
 * closes, or `deadlineMs` passes (then it resolves with what arrived; callers assert on the bytes).
 */
export function exchange(
  port: number,
  bytes: Buffer | string,
  done: (got: Buffer) => boolean = () => false,
  deadlineMs = 5000,
): Promise<Buffer> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(finish, deadlineMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (done(got)) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
  });
}
