// Access loggers from HCM/tcp_proxy `access_log` entries: file/stdout sinks with text or JSON formats.
import { createWriteStream, type WriteStream } from 'node:fs';
import { anyTypeName } from '../../util/values.js';
import { ENVOY_DEFAULT_FORMAT, Formatter, type AccessLogContext } from './formatter.js';
import { logger } from '../../log.js';
import { compileAccessLogFilter, type AccessLogPredicate } from './access-log-filter.js';
import type {
  envoy_config_accesslog_v3_AccessLog as AccessLogConfig,
  envoy_extensions_access_loggers_file_v3_FileAccessLog as FileAccessLog,
  google_protobuf_Struct as Struct,
  google_protobuf_Value as StructValue,
} from '../../../xds/envoy-types.js';

const log = logger('access_log');

/** Where lines go; stdout lines are batched per event-loop turn. */
class Sink {
  private buf = '';
  private scheduled = false;
  private readonly stream: WriteStream | NodeJS.WriteStream;
  constructor(path: string) {
    this.stream =
      path === '/dev/stdout' || path === ''
        ? process.stdout
        : path === '/dev/stderr'
          ? process.stderr
          : createWriteStream(path, { flags: 'a' });
    if (this.stream !== process.stdout && this.stream !== process.stderr) {
      this.stream.on('error', (e: Error) => log.error(`access log ${path}: ${e.message}`));
    }
  }
  write(line: string): void {
    this.buf += line;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
  private readonly flush = (): void => {
    this.scheduled = false;
    const b = this.buf;
    this.buf = '';
    if (b) this.stream.write(b);
  };
}

const sinks = new Map<string, Sink>();
function sinkFor(path: string): Sink {
  let s = sinks.get(path);
  if (!s) sinks.set(path, (s = new Sink(path)));
  return s;
}

/** One compiled access log. */
export class AccessLog {
  private readonly text: Formatter | null;
  private readonly json: Array<[string, Formatter]> | null;
  private readonly sink: Sink;

  constructor(
    path: string,
    textFormat: string | null,
    jsonFormat: Record<string, string> | null,
    /** Envoy's access log filter, or null to log everything. */
    private readonly filter: AccessLogPredicate | null = null,
  ) {
    this.sink = sinkFor(path);
    this.json = jsonFormat ? Object.entries(jsonFormat).map(([k, v]) => [k, new Formatter(v)]) : null;
    this.text = this.json ? null : new Formatter(textFormat ?? ENVOY_DEFAULT_FORMAT);
  }

  /** Writes the line for one request/session. */
  log(c: AccessLogContext): void {
    if (this.filter !== null && !this.filter(c)) return;
    if (this.text) {
      this.sink.write(this.text.format(c));
      return;
    }
    const o: Record<string, string | number | null> = {};
    for (const [k, f] of this.json!) {
      const v = f.format(c);
      o[k] = v === '-' ? null : /^\d+$/.test(v) ? Number(v) : v;
    }
    this.sink.write(JSON.stringify(o) + '\n');
  }
}

/**
 * Compiles a list of canonical AccessLog entries (file and stdout/stderr loggers). Unknown logger
 * types are skipped (they export to services Mizzen does not run). Returns null when none remain.
 */
export function compileAccessLogs(list: readonly AccessLogConfig[] | undefined): AccessLog[] | null {
  const out: AccessLog[] = [];
  for (const al of list ?? []) {
    const t = anyTypeName(al.typedConfig);
    // Only the file logger has fields; the stdout/stderr loggers' formats are the same ones.
    const tc = (al.typedConfig ?? {}) as FileAccessLog;
    let path: string;
    if (t === 'envoy.extensions.access_loggers.file.v3.FileAccessLog')
      path = String(tc.path ?? '/dev/stdout');
    else if (t === 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog') path = '/dev/stdout';
    else if (t === 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog') path = '/dev/stderr';
    else {
      log.debug(`skipping access logger ${al.name ?? t}`);
      continue;
    }
    const lf = tc.logFormat;
    let text: string | null = tc.format ?? null;
    let json: Record<string, string> | null = null;
    if (lf?.textFormatSource?.inlineString !== undefined) text = String(lf.textFormatSource.inlineString);
    else if (lf?.textFormat !== undefined) text = String(lf.textFormat);
    else if (lf?.jsonFormat) json = structStrings(lf.jsonFormat);
    if (text !== null && !text.endsWith('\n')) text += '\n';
    const filter = al.filter ? compileAccessLogFilter(al.filter, `accessLog.${al.name ?? t}.filter`) : null;
    out.push(new AccessLog(path, text, json, filter));
  }
  return out.length > 0 ? out : null;
}

/** A json_format Struct's string values (also a plain `{ key: string }` object). */
function structStrings(s: Struct): Record<string, string> {
  const out: Record<string, string> = {};
  const fields: object = s.fields ?? s;
  for (const [k, v] of Object.entries(fields) as [string, unknown][]) {
    out[k] = typeof v === 'string' ? v : String((v as StructValue | null)?.stringValue ?? '');
  }
  return out;
}
