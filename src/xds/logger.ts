// The logging hook shared by the ADS server and client (callers plug in their own logger).

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives one log line; `message` has no trailing newline. */
export type XdsLogger = (level: LogLevel, message: string) => void;

/** Default logger: warnings and errors to stderr, the rest dropped. */
export const stderrLogger: XdsLogger = (level, message) => {
  if (level === 'warn' || level === 'error') process.stderr.write(`xds ${level}: ${message}\n`);
};
