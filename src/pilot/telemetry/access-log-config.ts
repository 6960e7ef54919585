// Envoy access_log entries from MeshConfig (accessLogFile/Encoding/Format) and Telemetry access-log
// providers, with Istio's default text and JSON formats and `filter.expression` on response codes.
import { structFromJson } from '../../xds/struct.js';
import type {
  envoy_config_accesslog_v3_AccessLog as AccessLog,
  envoy_config_accesslog_v3_AccessLogFilter as AccessLogFilter,
  envoy_config_core_v3_SubstitutionFormatString as SubstitutionFormatString,
} from '../../xds/envoy-types.js';
import { anyOf, TYPES } from '../envoy.js';
import type { MeshTelemetry } from './mesh-telemetry.js';

/** Istio's default text format (pilot/pkg/model/telemetry_logging.go, Istio 1.9+). */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio's default JSON access-log labels (accessLogEncoding: JSON). */
export const ISTIO_JSON_LABELS: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
};

/** A file access log writing `path` as text (`text`) or JSON (`labels`). */
export function fileAccessLog(
  path: string,
  text: string | null,
  labels: Readonly<Record<string, string>> | null,
  filter: AccessLogFilter | null,
): AccessLog {
  const logFormat: SubstitutionFormatString = labels
    ? { jsonFormat: structFromJson({ ...labels }) }
    : { textFormatSource: { inlineString: text ?? ISTIO_TEXT_FORMAT } };
  const out: AccessLog = {
    name: 'envoy.access_loggers.file',
    typedConfig: anyOf(TYPES.FILE_ACCESS_LOG, { path, logFormat }),
  };
  if (filter) out.filter = filter;
  return out;
}

/** The MeshConfig access log (accessLogFile set), or null. */
export function meshAccessLog(t: MeshTelemetry): AccessLog | null {
  if (!t.accessLogFile) return null;
  if (t.accessLogEncoding === 'JSON') {
    let labels: Record<string, string> = { ...ISTIO_JSON_LABELS };
    if (t.accessLogFormat) {
      try {
        labels = JSON.parse(t.accessLogFormat) as Record<string, string>;
      } catch {
        // validated with a warning at load; Istio's default JSON keeps logging meanwhile
      }
    }
    return fileAccessLog(t.accessLogFile, null, labels, null);
  }
  const text = t.accessLogFormat
    ? t.accessLogFormat.endsWith('\n')
      ? t.accessLogFormat
      : `${t.accessLogFormat}\n`
    : null;
  return fileAccessLog(t.accessLogFile, text, null, null);
}

function codeFilter(op: 'GE' | 'EQ' | 'LE', value: number): AccessLogFilter {
  return {
    statusCodeFilter: { comparison: { op, value: { defaultValue: value, runtimeKey: 'mizzen.unused' } } },
  };
}

/**
 * A Telemetry `filter.expression` on `response.code` (`>= 400`, `== 503`, `!= 200`, joined with `&&` or
 * `||`, no parentheses) as an Envoy AccessLogFilter; null when the expression is beyond that subset.
 */
export function compileFilterExpression(expr: string): AccessLogFilter | null {
  const orParts = expr.split('||').map((s) => s.trim());
  const ors: AccessLogFilter[] = [];
  for (const part of orParts) {
    const ands: AccessLogFilter[] = [];
    for (const cmp of part.split('&&').map((s) => s.trim())) {
      const m = /^response\.code\s*(>=|<=|==|!=|>|<)\s*(\d{1,3})$/.exec(cmp);
      if (!m) return null;
      const n = Number(m[2]);
      const f: AccessLogFilter =
        m[1] === '>='
          ? codeFilter('GE', n)
          : m[1] === '>'
            ? codeFilter('GE', n + 1)
            : m[1] === '<='
              ? codeFilter('LE', n)
              : m[1] === '<'
                ? codeFilter('LE', n - 1)
                : m[1] === '=='
                  ? codeFilter('EQ', n)
                  : { orFilter: { filters: [codeFilter('LE', n - 1), codeFilter('GE', n + 1)] } };
      ands.push(f);
    }
    ors.push(ands.length === 1 ? ands[0] : { andFilter: { filters: ands } });
  }
  return ors.length === 1 ? ors[0] : { orFilter: { filters: ors } };
}
