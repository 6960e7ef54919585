// The HCM's downstream limits and timeouts (max_request_headers_kb, common_http_protocol_options,
// http_protocol_options, request_headers_timeout, request_timeout), compiled once per HCM.
import { boolValue, durationMs, u32 } from '../../util/values.js';
import type {
  envoy_config_core_v3_HttpProtocolOptions as HttpProtocolOptions,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
} from '../../../xds/envoy-types.js';

/** Compiled downstream codec limits and connection/stream timers of one HCM. All times in ms; 0 = off. */
export class CodecOptions {
  constructor(
    /** max_request_headers_kb in bytes (Envoy default 60 KiB, at most 8192 KiB); more → 431. */
    readonly maxRequestHeadersBytes: number,
    /** common_http_protocol_options.max_headers_count (Envoy default 100); more → 431. */
    readonly maxHeadersCount: number,
    /** http_protocol_options.accept_http_10 (default false: HTTP/1.0 → 426). */
    readonly acceptHttp10: boolean,
    /** http_protocol_options.default_host_for_http_10: Host for HTTP/1.0 requests without one ('' = none). */
    readonly defaultHostForHttp10: string,
    /** request_headers_timeout: first header byte to the last (default off) → 408, downstream_rq_header_timeout. */
    readonly requestHeadersTimeoutMs: number,
    /** request_timeout: request start to its last byte (or to the response start) (default off) → 408. */
    readonly requestTimeoutMs: number,
    /** common_http_protocol_options.idle_timeout: a connection without streams closes (default 1 h). */
    readonly idleTimeoutMs: number,
  ) {}
}

/** Fields of common_http_protocol_options this proxy does not enforce: refused rather than ignored. */
const UNSUPPORTED_COMMON = [
  'maxConnectionDuration',
  'maxStreamDuration',
  'maxRequestsPerConnection',
] as const;

/** Compiles the HCM's codec options. Throws naming the field when a value is out of range or unsupported. */
export function compileCodecOptions(config: HttpConnectionManager): CodecOptions {
  const kb = u32(config.maxRequestHeadersKb, 60);
  if (!(kb >= 1 && kb <= 8192)) throw new Error(`maxRequestHeadersKb: must be 1..8192, got ${kb}`);
  const common: HttpProtocolOptions = config.commonHttpProtocolOptions ?? {};
  for (const f of UNSUPPORTED_COMMON) {
    if (common[f] !== undefined && common[f] !== null && !isZero(common[f]))
      throw new Error(`commonHttpProtocolOptions.${f}: not supported on downstream connections`);
  }
  const uh = String(common.headersWithUnderscoresAction ?? 'ALLOW');
  if (uh !== 'ALLOW')
    throw new Error(`commonHttpProtocolOptions.headersWithUnderscoresAction: ${uh} is not supported`);
  const count = u32(common.maxHeadersCount, 100);
  if (!(count >= 1)) throw new Error(`commonHttpProtocolOptions.maxHeadersCount: must be at least 1`);
  const h1 = config.httpProtocolOptions ?? {};
  return new CodecOptions(
    kb * 1024,
    count,
    boolValue(h1.acceptHttp_10, false),
    String(h1.defaultHostForHttp_10 ?? ''),
    durationMs(config.requestHeadersTimeout, 0),
    durationMs(config.requestTimeout, 0),
    durationMs(common.idleTimeout, 3_600_000),
  );
}

function isZero(v: unknown): boolean {
  if (typeof v === 'object' && v !== null && 'value' in v) return Number(v.value) === 0;
  try {
    return durationMs(v, 0) === 0;
  } catch {
    return false;
  }
}
