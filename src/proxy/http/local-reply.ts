// The one place that maps proxy errors to responses (linkerd's "rescue"): HTTP status, body, response
// flag, response code details, and for gRPC callers a trailers-only reply with grpc-status/grpc-message.
import { Flag } from './response-flags.js';

/** Errors the proxy itself turns into responses. Stable codes; tests and access logs depend on them. */
export const enum ProxyErrorCode {
  NoRoute,
  ClusterNotFound,
  NoHealthyUpstream,
  Overflow,
  UpstreamTimeout,
  ConnectFailure,
  ConnectionTermination,
  RemoteReset,
  RefusedStream,
  ProtocolError,
  FaultAbort,
  UpgradeRejected,
  MaintenanceMode,
  StreamIdleTimeout,
  PathNormalizationFailed,
  FragmentInPath,
  RequestHeaderTimeout,
  RequestTimeout,
  MissingHost,
  DuplicateHost,
  Http10NotAccepted,
  TooManyHeaders,
  ConnectRejected,
  BufferTooLarge,
  UnsupportedTransferEncoding,
}

/** How an error code becomes a response. */
interface Rescue {
  status: number;
  flag: number;
  body: string;
  details: string;
}

const RESET_PREFIX = 'upstream connect error or disconnect/reset before headers. ';

const TABLE: Record<ProxyErrorCode, Rescue> = {
  [ProxyErrorCode.NoRoute]: { status: 404, flag: Flag.NR, body: '', details: 'route_not_found' },
  [ProxyErrorCode.ClusterNotFound]: { status: 503, flag: Flag.NC, body: '', details: 'cluster_not_found' },
  [ProxyErrorCode.NoHealthyUpstream]: {
    status: 503,
    flag: Flag.UH,
    body: 'no healthy upstream',
    details: 'no_healthy_upstream',
  },
  [ProxyErrorCode.Overflow]: {
    status: 503,
    flag: Flag.UO,
    body: 'overflow',
    details: 'upstream_reset_before_response_started{overflow}',
  },
  [ProxyErrorCode.UpstreamTimeout]: {
    status: 504,
    flag: Flag.UT,
    body: 'upstream request timeout',
    details: 'upstream_response_timeout',
  },
  [ProxyErrorCode.ConnectFailure]: {
    status: 503,
    flag: Flag.UF,
    body: 'connection failure',
    details: 'upstream_reset_before_response_started{connection_failure}',
  },
  [ProxyErrorCode.ConnectionTermination]: {
    status: 503,
    flag: Flag.UC,
    body: 'connection termination',
    details: 'upstream_reset_before_response_started{connection_termination}',
  },
  [ProxyErrorCode.RemoteReset]: {
    status: 503,
    flag: Flag.UR,
    body: 'remote reset',
    details: 'upstream_reset_before_response_started{remote_reset}',
  },
  [ProxyErrorCode.RefusedStream]: {
    status: 503,
    flag: Flag.UR,
    body: 'remote refused stream reset',
    details: 'upstream_reset_before_response_started{remote_refused_stream_reset}',
  },
  [ProxyErrorCode.ProtocolError]: {
    status: 502,
    flag: Flag.UPE,
    body: 'protocol error',
    details: 'upstream_reset_before_response_started{protocol_error}',
  },
  [ProxyErrorCode.FaultAbort]: {
    status: 503,
    flag: Flag.FI,
    body: 'fault filter abort',
    details: 'fault_filter_abort',
  },
  [ProxyErrorCode.UpgradeRejected]: { status: 403, flag: 0, body: '', details: 'upgrade_failed' },
  [ProxyErrorCode.MaintenanceMode]: {
    status: 503,
    flag: Flag.UO,
    body: 'maintenance mode',
    details: 'maintenance_mode',
  },
  [ProxyErrorCode.StreamIdleTimeout]: {
    status: 408,
    flag: Flag.SI,
    body: 'stream timeout',
    details: 'stream_idle_timeout',
  },
  [ProxyErrorCode.PathNormalizationFailed]: {
    status: 400,
    flag: 0,
    body: 'Bad Request',
    details: 'path_normalization_failed',
  },
  [ProxyErrorCode.FragmentInPath]: { status: 400, flag: 0, body: 'Bad Request', details: 'invalid_url' },
  [ProxyErrorCode.RequestHeaderTimeout]: {
    status: 408,
    flag: 0,
    body: 'request header timeout',
    details: 'request_header_timeout',
  },
  [ProxyErrorCode.RequestTimeout]: {
    status: 408,
    flag: 0,
    body: 'request timeout',
    details: 'request_overall_timeout',
  },
  [ProxyErrorCode.MissingHost]: { status: 400, flag: 0, body: 'Bad Request', details: 'missing_host_header' },
  [ProxyErrorCode.DuplicateHost]: { status: 400, flag: 0, body: 'Bad Request', details: 'http1.codec_error' },
  [ProxyErrorCode.Http10NotAccepted]: {
    status: 426,
    flag: 0,
    body: 'Upgrade Required',
    details: 'low_version',
  },
  [ProxyErrorCode.TooManyHeaders]: {
    status: 431,
    flag: 0,
    body: 'Request Header Fields Too Large',
    details: 'http1.too_many_headers',
  },
  [ProxyErrorCode.ConnectRejected]: { status: 403, flag: 0, body: '', details: 'upgrade_failed' },
  [ProxyErrorCode.BufferTooLarge]: {
    status: 413,
    flag: 0,
    body: 'Payload Too Large',
    details: 'request_payload_too_large',
  },
  [ProxyErrorCode.UnsupportedTransferEncoding]: {
    status: 501,
    flag: 0,
    body: 'Not Implemented',
    details: 'http1.invalid_transfer_encoding',
  },
};

/** True for the upstream-reset family whose body reads "upstream connect error or disconnect/reset before headers. …". */
function isReset(code: ProxyErrorCode): boolean {
  return (
    code === ProxyErrorCode.Overflow ||
    code === ProxyErrorCode.ConnectFailure ||
    code === ProxyErrorCode.ConnectionTermination ||
    code === ProxyErrorCode.RemoteReset ||
    code === ProxyErrorCode.RefusedStream ||
    code === ProxyErrorCode.ProtocolError
  );
}

/** A fully resolved local reply. */
export interface LocalReply {
  status: number;
  flag: number;
  body: string;
  details: string;
  /** Extra headers (x-envoy-overloaded for UO). */
  overloaded: boolean;
}

/**
 * Resolves an error code to its reply. `retried` switches reset bodies to Envoy's "retried and the
 * latest reset reason" wording; `status` overrides the HTTP status (fault aborts).
 */
export function rescue(code: ProxyErrorCode, retried = false, status = 0): LocalReply {
  const r = TABLE[code];
  let body = r.body;
  if (isReset(code))
    body = RESET_PREFIX + (retried ? 'retried and the latest reset reason: ' : 'reset reason: ') + r.body;
  return {
    status: status || r.status,
    flag: r.flag,
    body,
    details: r.details,
    overloaded: code === ProxyErrorCode.Overflow,
  };
}

/** Envoy's HTTP status → gRPC status mapping for local replies to gRPC requests. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** gRPC's percent-encoding of grpc-message. */
export function grpcMessageEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
