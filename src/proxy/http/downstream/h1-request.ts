// One parsed HTTP/1.x request head and its body stream, as the HTTP/1.1 server codec hands them to the HCM.
import { Readable } from 'node:stream';
import { stringHeadersToMap } from '../filters/router/raw-headers.js';
import type { HeaderMap } from '../route/header-mutation.js';

/** A request head: what node:http's IncomingMessage carried, without the stream. */
export class H1RequestHead {
  readonly httpVersion: string;
  /** Lower-cased names with node:http's duplicate rules (the HCM edits this object). */
  readonly headers: HeaderMap;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    /** [name, value, …] as received. */
    readonly rawHeaders: string[],
    /** llhttp's verdict: HTTP/1.1 without `connection: close`, or HTTP/1.0 with keep-alive. */
    readonly shouldKeepAlive: boolean,
  ) {
    this.httpVersion =
      httpVersionMajor === 1 && httpVersionMinor === 1 ? '1.1' : `${httpVersionMajor}.${httpVersionMinor}`;
    this.headers = stringHeadersToMap(rawHeaders);
  }

  /** True for HTTP/1.1 and later. */
  get http11(): boolean {
    return this.httpVersionMajor > 1 || (this.httpVersionMajor === 1 && this.httpVersionMinor >= 1);
  }
}

/** Who reads a request body: the codec pauses the socket when the reader falls behind. */
export interface BodySource {
  resumeBody(): void;
}

/**
 * A request body as a Readable: the codec pushes what llhttp decodes (chunked framing removed) and ends
 * it at the end of the message; a slow reader pauses the socket until it reads again.
 */
export class H1RequestBody extends Readable {
  /** The whole body arrived. */
  complete = false;

  constructor(private readonly source: BodySource) {
    super();
  }

  override _read(): void {
    this.source.resumeBody();
  }
}
