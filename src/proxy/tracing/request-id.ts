// Envoy's UUID request-id extension: the tracing decision travels inside x-request-id (the UUID's
// version digit: '9' sampled, 'a' forced, 'b' client, '4' none), and its first 8 hex digits give the
// number random sampling compares with, so every proxy decides the same for one request.

/** Tracing decision stored in an x-request-id. */
export const enum TraceStatus {
  NoTrace = 0,
  Sampled = 1,
  Client = 2,
  Forced = 3,
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** The digit that carries the status (the UUID version position). */
const AT = 14;

/** The status a request id carries; NoTrace for ids that are not UUIDs. */
export function traceStatusOf(rid: string): TraceStatus {
  if (rid.length !== 36 || !UUID.test(rid)) return TraceStatus.NoTrace;
  switch (rid.charCodeAt(AT)) {
    case 0x39: // '9'
      return TraceStatus.Sampled;
    case 0x61: // 'a'
    case 0x41:
      return TraceStatus.Forced;
    case 0x62: // 'b'
    case 0x42:
      return TraceStatus.Client;
    default:
      return TraceStatus.NoTrace;
  }
}

const DIGIT = ['4', '9', 'b', 'a'];

/** The request id with `status` written in; ids that are not UUIDs are returned unchanged. */
export function withTraceStatus(rid: string, status: TraceStatus): string {
  if (rid.length !== 36 || !UUID.test(rid)) return rid;
  return rid.slice(0, AT) + DIGIT[status] + rid.slice(AT + 1);
}

/** The first 8 hex digits of a UUID modulo `mod` (Envoy's modBy), or -1 when it is not a UUID. */
export function requestIdModulo(rid: string, mod: number): number {
  if (rid.length !== 36 || !UUID.test(rid)) return -1;
  return parseInt(rid.slice(0, 8), 16) % mod;
}
