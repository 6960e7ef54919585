// Envoy's access-log format strings (%START_TIME%, %REQ(X?Y):N%, %RESPONSE_FLAGS%, …) compiled once.
import { hostname } from 'node:os';
import { flagsToString } from '../response-flags.js';

/** What the formatter reads about one finished request or TCP session. */
export interface AccessLogContext {
  /** Start time, ms since epoch. */
  readonly startTime: number;
  /** Request header (lower-case; pseudo headers `:method`, `:path`, `:authority`, `:scheme`). */
  reqHeader(name: string): string | undefined;
  respHeader(name: string): string | undefined;
  trailer(name: string): string | undefined;
  readonly protocol: string;
  readonly responseCode: number;
  readonly responseFlags: number;
  readonly responseCodeDetails: string;
  readonly connectionTerminationDetails: string;
  readonly upstreamTransportFailureReason: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Total duration in ms. */
  readonly durationMs: number;
  /** ms from start to the first response byte; -1 when unknown. */
  readonly responseDurationMs: number;
  /** ms from start until the request was fully received; -1 when unknown. */
  readonly requestDurationMs: number;
  readonly upstreamHost: string | null;
  readonly upstreamCluster: string | null;
  readonly upstreamLocalAddress: string | null;
  readonly downstreamLocalAddress: string;
  readonly downstreamRemoteAddress: string;
  readonly requestedServerName: string;
  readonly routeName: string;
  readonly attemptCount: number;
}

/** Istio's default text access log format (meshConfig.accessLogFormat unset). */
export const ISTIO_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Envoy's own default format (used when an access log names no format). */
export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

const enum Op {
  Literal,
  StartTime,
  Req,
  Resp,
  Trailer,
  Protocol,
  ResponseCode,
  ResponseFlags,
  ResponseCodeDetails,
  ConnTermDetails,
  UpstreamTransportFailure,
  BytesReceived,
  BytesSent,
  Duration,
  RequestDuration,
  ResponseDuration,
  UpstreamHost,
  UpstreamCluster,
  UpstreamLocal,
  DownstreamLocal,
  DownstreamLocalNoPort,
  DownstreamRemote,
  DownstreamRemoteNoPort,
  RequestedServerName,
  RouteName,
  AttemptCount,
  Hostname,
  Unknown,
}

interface Segment {
  op: Op;
  /** Literal text, or header name. */
  a: string;
  /** Alternative header name (REQ(A?B)). */
  b: string;
  /** Max length, 0 = unlimited. */
  max: number;
}

const SIMPLE: Record<string, Op> = {
  START_TIME: Op.StartTime,
  PROTOCOL: Op.Protocol,
  RESPONSE_CODE: Op.ResponseCode,
  RESPONSE_FLAGS: Op.ResponseFlags,
  RESPONSE_CODE_DETAILS: Op.ResponseCodeDetails,
  CONNECTION_TERMINATION_DETAILS: Op.ConnTermDetails,
  UPSTREAM_TRANSPORT_FAILURE_REASON: Op.UpstreamTransportFailure,
  BYTES_RECEIVED: Op.BytesReceived,
  BYTES_SENT: Op.BytesSent,
  DURATION: Op.Duration,
  REQUEST_DURATION: Op.RequestDuration,
  RESPONSE_DURATION: Op.ResponseDuration,
  UPSTREAM_HOST: Op.UpstreamHost,
  UPSTREAM_CLUSTER: Op.UpstreamCluster,
  UPSTREAM_CLUSTER_RAW: Op.UpstreamCluster,
  UPSTREAM_LOCAL_ADDRESS: Op.UpstreamLocal,
  DOWNSTREAM_LOCAL_ADDRESS: Op.DownstreamLocal,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: Op.DownstreamLocalNoPort,
  DOWNSTREAM_REMOTE_ADDRESS: Op.DownstreamRemote,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: Op.DownstreamRemoteNoPort,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: Op.DownstreamRemote,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: Op.DownstreamRemoteNoPort,
  DOWNSTREAM_PEER_ADDRESS: Op.DownstreamRemote,
  REQUESTED_SERVER_NAME: Op.RequestedServerName,
  ROUTE_NAME: Op.RouteName,
  UPSTREAM_REQUEST_ATTEMPT_COUNT: Op.AttemptCount,
  HOSTNAME: Op.Hostname,
};

const COMMAND = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** A compiled format string. */
export class Formatter {
  private readonly segments: Segment[] = [];

  constructor(format: string) {
    let last = 0;
    for (const m of format.matchAll(COMMAND)) {
      if (m.index > last) this.lit(format.slice(last, m.index));
      last = m.index + m[0].length;
      const cmd = m[1];
      const arg = m[2] ?? '';
      const max = Number(m[3] ?? 0);
      if (cmd === 'REQ' || cmd === 'RESP' || cmd === 'TRAILER') {
        const [a, b] = arg.toLowerCase().split('?');
        const op = cmd === 'REQ' ? Op.Req : cmd === 'RESP' ? Op.Resp : Op.Trailer;
        this.segments.push({ op, a: a ?? '', b: b ?? '', max });
      } else this.segments.push({ op: SIMPLE[cmd] ?? Op.Unknown, a: '', b: '', max });
    }
    if (last < format.length) this.lit(format.slice(last));
  }

  private lit(s: string): void {
    this.segments.push({ op: Op.Literal, a: s.replace(/%%/g, '%'), b: '', max: 0 });
  }

  /** Renders one line. */
  format(c: AccessLogContext): string {
    let out = '';
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (s.op === Op.Literal) {
        out += s.a;
        continue;
      }
      let v = value(s, c);
      if (s.max > 0 && v.length > s.max) v = v.slice(0, s.max);
      out += v;
    }
    return out;
  }

  /** The value of a single command (used by JSON formats). */
  static single(command: string): Formatter {
    return new Formatter(command);
  }
}

const host = hostname();

function dash(v: string | undefined | null): string {
  return v === undefined || v === null || v === '' ? '-' : v;
}

function withoutPort(a: string): string {
  const i = a.lastIndexOf(':');
  return i > 0 && !a.endsWith(']') ? a.slice(0, i) : a;
}

function value(s: Segment, c: AccessLogContext): string {
  switch (s.op) {
    case Op.StartTime:
      return new Date(c.startTime).toISOString();
    case Op.Req:
      return dash(c.reqHeader(s.a) ?? (s.b ? c.reqHeader(s.b) : undefined));
    case Op.Resp:
      return dash(c.respHeader(s.a) ?? (s.b ? c.respHeader(s.b) : undefined));
    case Op.Trailer:
      return dash(c.trailer(s.a) ?? (s.b ? c.trailer(s.b) : undefined));
    case Op.Protocol:
      return dash(c.protocol);
    case Op.ResponseCode:
      return String(c.responseCode);
    case Op.ResponseFlags:
      return flagsToString(c.responseFlags);
    case Op.ResponseCodeDetails:
      return dash(c.responseCodeDetails);
    case Op.ConnTermDetails:
      return dash(c.connectionTerminationDetails);
    case Op.UpstreamTransportFailure:
      return dash(c.upstreamTransportFailureReason);
    case Op.BytesReceived:
      return String(c.bytesReceived);
    case Op.BytesSent:
      return String(c.bytesSent);
    case Op.Duration:
      return String(Math.round(c.durationMs));
    case Op.RequestDuration:
      return c.requestDurationMs < 0 ? '-' : String(Math.round(c.requestDurationMs));
    case Op.ResponseDuration:
      return c.responseDurationMs < 0 ? '-' : String(Math.round(c.responseDurationMs));
    case Op.UpstreamHost:
      return dash(c.upstreamHost);
    case Op.UpstreamCluster:
      return dash(c.upstreamCluster);
    case Op.UpstreamLocal:
      return dash(c.upstreamLocalAddress);
    case Op.DownstreamLocal:
      return dash(c.downstreamLocalAddress);
    case Op.DownstreamLocalNoPort:
      return dash(withoutPort(c.downstreamLocalAddress));
    case Op.DownstreamRemote:
      return dash(c.downstreamRemoteAddress);
    case Op.DownstreamRemoteNoPort:
      return dash(withoutPort(c.downstreamRemoteAddress));
    case Op.RequestedServerName:
      return dash(c.requestedServerName);
    case Op.RouteName:
      return dash(c.routeName);
    case Op.AttemptCount:
      return c.attemptCount > 0 ? String(c.attemptCount) : '-';
    case Op.Hostname:
      return host;
    default:
      return '-';
  }
}
