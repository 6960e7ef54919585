// Writes serialized xDS responses on a grpc-js server call, one at a time, and notices a client that
// takes none of a response within the send timeout (shared by the state-of-the-world and delta streams).
import { constants as http2constants, type Http2Stream } from 'node:http2';
import { Metadata } from '@grpc/grpc-js';
import { responseBytes, SerializedResponse, type ResponseParts } from './discovery-response-bytes.js';

/** The part of a grpc-js server call a writer uses. */
export interface WritableCall {
  write(message: unknown, cb: () => void): boolean;
  sendMetadata(metadata: Metadata): void;
}

/** One response at a time on one call; {@link cancel} settles the one being written when the stream closes. */
export class ResponseWriter {
  private settle: (() => void) | null = null;

  constructor(
    private readonly call: WritableCall,
    private readonly sendTimeoutMs: number,
    /** Called when the client took no byte of a response for `sendTimeoutMs` (0: never). */
    private readonly onStuck: () => void,
  ) {}

  /**
   * Writes the message `encode` produces; resolves once the transport took it or the stream closed. A client
   * that takes none of it for `sendTimeoutMs` triggers `onStuck`; a slow client that keeps taking bytes
   * never does.
   */
  write(encode: () => ResponseParts): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.settle = null;
        resolve();
      };
      let written = bytesWritten(this.call);
      const check = (): void => {
        const now = bytesWritten(this.call);
        if (now !== null && written !== null && now > written) {
          written = now;
          timer = setTimeout(check, timeoutMs);
          return;
        }
        done();
        this.onStuck();
      };
      // 0 turns eviction off (istiod's PILOT_XDS_SEND_TIMEOUT default): the write waits as long as it takes.
      const timeoutMs = this.sendTimeoutMs;
      let timer = timeoutMs > 0 ? setTimeout(check, timeoutMs) : undefined;
      this.settle = done;
      const stream = http2StreamOf(this.call);
      if (stream?.destroyed || stream?.closed) return done(); // nothing will be written: gone, not stuck
      try {
        const parts = encode();
        if (!writeOnStream(this.call, parts, done))
          this.call.write(new SerializedResponse(responseBytes(parts)), done);
      } catch {
        done();
      }
    });
  }

  /** Settles the response being written (the stream closed). */
  cancel(): void {
    this.settle?.();
  }
}

/**
 * Writes the message as gRPC's length-prefixed frame straight onto the call's HTTP/2 stream, with the shared
 * resource chunks by reference. grpc-js would first copy the whole message into a Buffer of its own: at 1000
 * services that is a fresh 1-5 MiB allocation per proxy and push, which cost more CPU (page faults, garbage
 * collection) than generating the config, and held the server's memory up between collections. False when
 * the call is not one this can write on (another grpc-js version, server interceptors, a finished stream):
 * the caller then writes through grpc-js. What grpc-js does around a message is done here too: the response
 * headers go first (its own `sendMetadata`), the status after the data (ordered by the stream).
 */
function writeOnStream(call: WritableCall, parts: ResponseParts, cb: () => void): boolean {
  const inner = (call as { call?: { metadataSent?: unknown } }).call;
  const stream = http2StreamOf(call);
  if (!stream || typeof inner?.metadataSent !== 'boolean') return false;
  if (stream.destroyed || stream.writableEnded || stream.closed) return false;
  if (!inner.metadataSent) call.sendMetadata(new Metadata());
  if (inner.metadataSent !== true || stream.destroyed || stream.writableEnded) return false;
  let length = parts.head.byteLength;
  for (const chunk of parts.body) length += chunk.byteLength;
  const first = Buffer.allocUnsafe(5 + parts.head.byteLength);
  first[0] = 0; // not compressed
  first.writeUInt32BE(length, 1);
  first.set(parts.head, 5);
  const last = parts.body.length - 1;
  stream.cork();
  if (last < 0) stream.write(first, () => cb());
  else {
    stream.write(first);
    for (let i = 0; i < last; i++) stream.write(parts.body[i]);
    stream.write(parts.body[last], () => cb());
  }
  stream.uncork();
  return true;
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js has no public way to see how much of a
 * response is still unsent, nor to end a call whose response is stuck behind a closed flow-control
 * window (its status is sent only after the data), so this reaches the stream grpc-js keeps on its
 * call object; null if the shape differs (another grpc-js version).
 */
function http2StreamOf(call: object): Http2Stream | null {
  const stream = (call as { call?: { stream?: Partial<Http2Stream> } }).call?.stream;
  const isHttp2 = typeof stream?.close === 'function' && typeof stream.writableLength === 'number';
  return isHttp2 ? (stream as Http2Stream) : null;
}

/**
 * Bytes written so far to the connection under the call; null if unknown. It grows while the client
 * takes data (HTTP/2 flow control lets nothing out otherwise); Envoy and gRPC clients use one
 * connection per ADS stream, so it measures this stream's progress.
 */
function bytesWritten(call: object): number | null {
  const stream = http2StreamOf(call);
  const socket = stream?.destroyed ? undefined : stream?.session?.socket;
  return typeof socket?.bytesWritten === 'number' ? socket.bytesWritten : null;
}

/**
 * Resets the HTTP/2 stream under a grpc-js server call (RST_STREAM CANCEL). Without it a stream stuck
 * behind a closed window would only be dropped from pushes, its unsent bytes held until the client
 * disconnects.
 */
export function resetHttp2Stream(call: object): void {
  const stream = http2StreamOf(call);
  if (!stream || stream.destroyed) return;
  try {
    stream.close(http2constants.NGHTTP2_CANCEL);
  } catch {}
}

/** Resolves when `p` settles or after `ms`, whichever comes first. */
export function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
