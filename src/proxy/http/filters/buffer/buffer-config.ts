// Compiled envoy.extensions.filters.http.buffer.v3.Buffer and BufferPerRoute.
import { DISABLED } from '../../route/route-entry.js';
import { u32 } from '../../../util/values.js';
import type {
  envoy_extensions_filters_http_buffer_v3_Buffer as BufferMessage,
  envoy_extensions_filters_http_buffer_v3_BufferPerRoute as BufferPerRoute,
} from '../../../../xds/envoy-types.js';

/** One buffer configuration (filter-level or a route's override). */
export class BufferConfig {
  constructor(
    /** max_request_bytes: the largest request body buffered; more → 413. */
    readonly maxRequestBytes: number,
  ) {}
}

/** Compiles a Buffer message. Throws naming the field when max_request_bytes is missing or 0. */
export function compileBuffer(c: BufferMessage | undefined): BufferConfig {
  const max = u32(c?.maxRequestBytes, 0);
  if (!(max >= 1)) throw new Error('maxRequestBytes: required, must be at least 1');
  return new BufferConfig(max);
}

/** Compiles a BufferPerRoute: `disabled: true` (the filter skips the route) or a `buffer` override. */
export function compileBufferPerRoute(c: BufferPerRoute | undefined): BufferConfig | typeof DISABLED {
  if (c?.disabled === true) return DISABLED;
  if (c?.buffer) {
    try {
      return compileBuffer(c.buffer);
    } catch (e) {
      throw new Error(`buffer.${(e as Error).message}`);
    }
  }
  throw new Error('BufferPerRoute: needs disabled: true or a buffer');
}
