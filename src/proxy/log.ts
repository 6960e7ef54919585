// The proxy's component loggers with Envoy's level names, changeable at runtime through admin /logging.

/** Envoy's log levels, least to most verbose index order reversed: trace(0) … off(6). */
export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
/** One of Envoy's log level names. */
export type LevelName = (typeof LEVELS)[number];

/** A named logger whose threshold can be changed at runtime. */
export class Logger {
  /** Index into LEVELS; messages below it are dropped. */
  level = 2;
  constructor(readonly name: string) {}

  /** True when `lvl` messages would be written. */
  enabled(lvl: number): boolean {
    return lvl >= this.level;
  }
  debug(msg: string): void {
    if (this.level <= 1) write('debug', this.name, msg);
  }
  info(msg: string): void {
    if (this.level <= 2) write('info', this.name, msg);
  }
  warn(msg: string): void {
    if (this.level <= 3) write('warning', this.name, msg);
  }
  error(msg: string): void {
    if (this.level <= 4) write('error', this.name, msg);
  }
}

let tag = '';

/** Prefixes every message of this process, e.g. `[worker 1] ` in a `--concurrency` worker ('' = none). */
export function setLogTag(t: string): void {
  tag = t;
}

function write(level: string, name: string, msg: string): void {
  // Envoy writes its application log to stderr; stdout carries the access log.
  process.stderr.write(`${new Date().toISOString()}\t${level}\t${name}\t${tag}${msg}\n`);
}

const loggers = new Map<string, Logger>();

/** The logger for a component (created on first use). */
export function logger(name: string): Logger {
  let l = loggers.get(name);
  if (!l) {
    l = new Logger(name);
    l.level = defaultLevel;
    loggers.set(name, l);
  }
  return l;
}

let defaultLevel = 2;

/** Sets every logger (and future ones) to `level`. Returns false for an unknown level name. */
export function setAllLevels(level: string): boolean {
  const idx = LEVELS.indexOf(level as LevelName);
  if (idx < 0) return false;
  defaultLevel = idx;
  for (const l of loggers.values()) l.level = idx;
  return true;
}

/** Sets one logger's level. Returns false for an unknown logger or level. */
export function setLevel(name: string, level: string): boolean {
  const idx = LEVELS.indexOf(level as LevelName);
  const l = loggers.get(name);
  if (idx < 0 || !l) return false;
  l.level = idx;
  return true;
}

/** All loggers with their level names, sorted by name. */
export function listLoggers(): Array<[string, LevelName]> {
  return [...loggers.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((l) => [l.name, LEVELS[l.level]]);
}
