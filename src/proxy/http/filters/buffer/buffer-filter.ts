// envoy.filters.http.buffer: holds the request until its whole body arrived (at most max_request_bytes,
// else 413 Payload Too Large), then lets the next filter run with the buffered body.
import { Readable } from 'node:stream';
import type { ActiveRequest } from '../../active-request.js';
import { ProxyErrorCode } from '../../local-reply.js';
import { DISABLED } from '../../route/route-entry.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { BufferConfig, compileBuffer, compileBufferPerRoute } from './buffer-config.js';
import type {
  envoy_extensions_filters_http_buffer_v3_Buffer as BufferMessage,
  envoy_extensions_filters_http_buffer_v3_BufferPerRoute as BufferPerRoute,
} from '../../../../xds/envoy-types.js';

/** One request's buffering (its filter slot) while the body arrives. */
class BufferState {
  chunks: Buffer[] = [];
  size = 0;
  constructor(
    readonly req: ActiveRequest,
    readonly body: Readable,
    readonly max: number,
    readonly filter: BufferFilter,
  ) {}

  readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length;
    this.req.touch();
    if (this.size > this.max) this.filter.tooLarge(this);
    else this.chunks.push(chunk);
  };

  readonly onEnd = (): void => this.filter.complete(this);

  /** Stops listening to the body. */
  detach(): void {
    this.body.removeListener('data', this.onData);
    this.body.removeListener('end', this.onEnd);
  }
}

/** The buffer filter of one HCM. */
export class BufferFilter implements HttpFilter {
  readonly encodeHeaders = null;
  private readonly slot: number;

  constructor(
    readonly name: string,
    private readonly config: BufferConfig,
    ctx: FilterContext,
  ) {
    this.slot = ctx.slot;
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const body = req.body;
    if (body === null) return FilterStatus.Continue;
    const c = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name) ?? this.config;
    if (c === DISABLED) return FilterStatus.Continue;
    const max = (c as BufferConfig).maxRequestBytes;
    // A declared length over the limit is refused before reading a byte.
    const cl = Number(req.headers['content-length']);
    if (Number.isFinite(cl) && cl > max) {
      this.reject(req);
      return FilterStatus.Stop;
    }
    const st = new BufferState(req, body, max, this);
    req.filterState[this.slot] = st;
    body.on('data', st.onData);
    body.once('end', st.onEnd);
    return FilterStatus.Stop;
  }

  /** The body outgrew max_request_bytes: 413 (the HTTP/1.1 connection closes, its upload unfinished). */
  tooLarge(st: BufferState): void {
    this.release(st.req);
    st.body.pause();
    this.reject(st.req);
  }

  /** The whole body is in: the next filters see it as a fresh stream with a content-length. */
  complete(st: BufferState): void {
    const req = st.req;
    this.release(req);
    if (req.done) return;
    if (req.headers['content-length'] === undefined) req.headers['content-length'] = String(st.size);
    req.body = Readable.from(st.chunks, { objectMode: false });
    req.continueDecoding();
  }

  readonly onDestroy = (req: ActiveRequest): void => {
    this.release(req);
  };

  private reject(req: ActiveRequest): void {
    req.hcm.stats.downstream_rq_too_large.inc();
    req.sendLocalReply(ProxyErrorCode.BufferTooLarge);
  }

  private release(req: ActiveRequest): void {
    const st = req.filterState[this.slot] as BufferState | null;
    if (st === null) return;
    req.filterState[this.slot] = null;
    st.detach();
  }
}

/** Factory for `envoy.filters.http.buffer`. */
export const bufferFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.buffer', 'envoy.buffer'],
  configTypes: [
    'envoy.extensions.filters.http.buffer.v3.Buffer',
    'envoy.extensions.filters.http.buffer.v3.BufferPerRoute',
  ],
  create: (name, cfg, ctx) => new BufferFilter(name, compileBuffer(cfg as BufferMessage), ctx),
  compilePerRoute: (cfg) => compileBufferPerRoute(cfg as BufferPerRoute),
};
