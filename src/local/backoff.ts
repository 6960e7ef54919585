// Restart backoff for crashed processes (Kubernetes' CrashLoopBackOff): 1 s doubling to 30 s, reset after 60 s up.

/** Timer functions, replaceable by a fake clock in tests. */
export interface Clock {
  /** Milliseconds since some fixed point. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Backoff settings, in milliseconds. */
export interface BackoffOptions {
  /** First restart delay (default 1000). */
  readonly initialMs?: number;
  /** Largest delay (default 30000). */
  readonly maxMs?: number;
  /** A process that stayed up this long starts over at the initial delay (default 60000). */
  readonly resetAfterMs?: number;
}

/** The delay sequence of one process. */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
  private current: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.resetAfterMs = opts.resetAfterMs ?? 60_000;
    this.current = this.initialMs;
  }

  /** The delay before restarting a process that ran `uptimeMs` before it exited; advances the sequence. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.resetAfterMs) this.current = this.initialMs;
    const d = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return d;
  }
}
