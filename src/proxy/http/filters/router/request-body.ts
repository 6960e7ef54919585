// Streams the downstream request body to the current upstream attempt with backpressure, keeping a
// bounded copy only while a retry or a mirror may need to replay it.
import type { Readable, Writable } from 'node:stream';

/** Bytes of request body kept for retries before retrying is given up (Envoy's 1 MiB buffer limit). */
export const RETRY_BUFFER_LIMIT = 1024 * 1024;

/** The request body of one downstream request, fanned out to the active attempt and mirrors. */
export class RequestBody {
  /** Retained copy (null once dropped or when not needed). */
  private chunks: Buffer[] | null;
  private size = 0;
  /** True when the copy was dropped because the body outgrew the limit: no replay possible. */
  overflowed = false;
  ended = false;
  /** Body bytes received from downstream. */
  bytes = 0;
  private sink: Writable | null = null;
  private waitingOn: Writable | null = null;
  private shadows: Writable[] | null = null;
  private flowing = false;

  constructor(
    private readonly src: Readable,
    keepCopy: boolean,
    /** Told about every chunk (the stream idle timer) and credited its bytes (%BYTES_RECEIVED%), or null. */
    private readonly activity: { touch(): void; bytesReceived: number } | null = null,
    private readonly limit = RETRY_BUFFER_LIMIT,
  ) {
    this.chunks = keepCopy ? [] : null;
    src.on('error', () => {});
  }

  /** True when a new attempt can get the whole body (nothing was dropped). */
  get replayable(): boolean {
    return !this.overflowed && (this.chunks !== null || this.bytes === 0);
  }

  /** Makes `sink` the body's destination: replays what was kept, then streams the rest. */
  attach(sink: Writable): void {
    this.sink = sink;
    if (this.chunks !== null) for (const c of this.chunks) sink.write(c);
    if (this.ended) {
      sink.end();
      return;
    }
    if (!this.flowing) {
      this.flowing = true;
      this.src.on('data', this.onData);
      this.src.once('end', this.onEnd);
    }
    this.waitingOn = null;
    this.src.resume();
  }

  /** Stops feeding the current sink (its attempt failed); pauses the source until the next attach. */
  detach(): void {
    this.sink = null;
    this.waitingOn = null;
    if (!this.ended) this.src.pause();
  }

  /** Adds a mirror destination; it gets what was kept plus everything after, never slowing the main flow. */
  addShadow(w: Writable): void {
    if (this.chunks !== null) for (const c of this.chunks) w.write(c);
    if (this.ended) {
      w.end();
      return;
    }
    (this.shadows ??= []).push(w);
  }

  /** Drops the retained copy (no more retries will happen). */
  release(): void {
    this.chunks = null;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    if (this.activity !== null) {
      this.activity.touch();
      this.activity.bytesReceived += chunk.length;
    }
    if (this.chunks !== null) {
      this.size += chunk.length;
      if (this.size > this.limit) {
        this.chunks = null;
        this.overflowed = true;
      } else this.chunks.push(chunk);
    }
    const sh = this.shadows;
    if (sh !== null) {
      for (let i = sh.length - 1; i >= 0; i--) {
        const w = sh[i];
        // A mirror that cannot keep up is abandoned rather than allowed to slow the caller.
        if (w.destroyed || w.writableLength > this.limit) {
          w.destroy();
          sh.splice(i, 1);
        } else w.write(chunk);
      }
    }
    const s = this.sink;
    if (s !== null && !s.destroyed && !s.write(chunk)) {
      this.src.pause();
      this.waitingOn = s;
      s.once('drain', this.onSinkDrain);
    }
  };

  private readonly onSinkDrain = (): void => {
    if (this.waitingOn !== null && this.waitingOn === this.sink) {
      this.waitingOn = null;
      this.src.resume();
    }
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.sink !== null && !this.sink.destroyed) this.sink.end();
    if (this.shadows !== null) for (const w of this.shadows) if (!w.destroyed) w.end();
    this.shadows = null;
  };
}
