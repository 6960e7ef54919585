// Writes serialized xDS responses on a grpc-js server call, one at a time, and notices a client that
// takes none of a response within the send timeout (shared by the state-of-the-world and delta streams).
import { constants as http2constants, type Http2Stream } from 'node:http2';
import { SerializedResponse } from './discovery-response-bytes.js';

/** The part of a grpc-js server call a writer uses. */
export interface WritableCall {
  write(message: unknown, cb: () => void): boolean;
  readonly writableLength: number;
}

/** One response at a time on one call; {@link cancel} settles the one being written when the stream closes. */
export class ResponseWriter {
  private settle: (() => void) | null = null;

  constructor(
    private readonly call: WritableCall,
    private readonly sendTimeoutMs: number,
    /** Called when the client took no byte of a response for `sendTimeoutMs`. */
    private readonly onStuck: () => void,
  ) {}

  /**
   * Writes the bytes `encode` produces (into the shared scratch buffer when the call is idle); resolves
   * once the transport took them or the stream closed. A client that takes none of them for
   * `sendTimeoutMs` triggers `onStuck`; a slow client that keeps taking bytes never does.
   */
  write(encode: (reuseScratch: boolean) => Buffer): Promise<void> {
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
          timer = setTimeout(check, this.sendTimeoutMs);
          return;
        }
        done();
        this.onStuck();
      };
      let timer = setTimeout(check, this.sendTimeoutMs);
      this.settle = done;
      try {
        // An idle writable hands the message to gRPC's serializer at once, so the scratch buffer can hold it.
        const message = new SerializedResponse(encode(this.call.writableLength === 0));
        this.call.write(message, done);
        message.settle();
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
