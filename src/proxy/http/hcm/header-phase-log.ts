// The access-log entry of an HTTP/1.1 request answered before its headers were complete (Envoy logs
// header-phase 408s like any other local reply: code, response flag and details; no request headers).
import type { AccessLogContext } from '../access-log/formatter.js';
import type { ConnectionInfo } from '../active-request.js';
import type { AccessLog } from '../access-log/access-log.js';
import type { LocalReply } from '../local-reply.js';

/** One header-phase local reply, as the access log formatters read it. */
export class HeaderPhaseLogEntry implements AccessLogContext {
  readonly protocol = 'HTTP/1.1';
  readonly responseCode: number;
  readonly responseFlags: number;
  readonly responseCodeDetails: string;
  readonly connectionTerminationDetails = '';
  readonly upstreamTransportFailureReason = '';
  readonly durationMs: number;
  readonly responseDurationMs: number;
  /** The request never finished arriving. */
  readonly requestDurationMs = -1;
  readonly upstreamHost = null;
  readonly upstreamCluster = null;
  readonly upstreamLocalAddress = null;
  readonly downstreamLocalAddress: string;
  readonly downstreamRemoteAddress: string;
  readonly requestedServerName: string;
  readonly routeName = '';
  readonly attemptCount = 0;

  constructor(
    /** When the first byte of the unfinished headers arrived (ms since epoch). */
    readonly startTime: number,
    now: number,
    info: ConnectionInfo | undefined,
    reply: LocalReply,
    /** Bytes of the unfinished request head read so far. */
    readonly bytesReceived: number,
    /** Bytes of the local reply's body. */
    readonly bytesSent: number,
  ) {
    this.responseCode = reply.status;
    this.responseFlags = reply.flag;
    this.responseCodeDetails = reply.details;
    this.durationMs = Math.max(0, now - startTime);
    this.responseDurationMs = this.durationMs;
    this.downstreamLocalAddress = info?.localAddress ?? '';
    this.downstreamRemoteAddress = info?.remoteAddress ?? '';
    this.requestedServerName = info?.sni ?? '';
  }

  reqHeader(): string | undefined {
    return undefined;
  }
  respHeader(name: string): string | undefined {
    return name === 'content-type' ? 'text/plain' : undefined;
  }
  trailer(): string | undefined {
    return undefined;
  }
}

/** Writes one header-phase local reply to every access log of the HCM (`logs` null: none configured). */
export function logHeaderPhaseReply(
  logs: readonly AccessLog[] | null,
  startTime: number,
  now: number,
  info: ConnectionInfo | undefined,
  reply: LocalReply,
  bytesReceived: number,
): void {
  if (logs === null) return;
  const entry = new HeaderPhaseLogEntry(startTime, now, info, reply, bytesReceived, reply.body.length);
  for (let i = 0; i < logs.length; i++) logs[i].log(entry);
}
