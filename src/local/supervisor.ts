// Runs local processes: own process groups, line-split output to a sink and a log file, restarts with backoff.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Backoff, systemClock, type BackoffOptions, type Clock } from './backoff.js';

/** What to run. */
export interface ProcessSpec {
  /** Unique name, also the log prefix, e.g. `reviews-v1-5d8c7b9f44-k2x9p sidecar`. */
  readonly name: string;
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** The whole environment of the process. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Output is appended here, one line per line, unprefixed. */
  readonly logFile?: string;
  /** SIGTERM → SIGKILL grace when stopping, in milliseconds (default 5000). */
  readonly graceMs?: number;
  /** When to start it again after it exits, with backoff (Kubernetes' restartPolicy; default Always). */
  readonly restart?: 'Always' | 'OnFailure' | 'Never';
}

/** Life-cycle state of a supervised process. */
export type ProcessState = 'running' | 'backoff' | 'stopping' | 'stopped' | 'exited';

/** How an earlier run ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Clock time of the exit (ms). */
  readonly at: number;
}

/** A snapshot of one process for status output and state.json. */
export interface ProcessStatus {
  readonly name: string;
  readonly pid: number | null;
  readonly state: ProcessState;
  /** Times the process was started again after it exited. */
  readonly restarts: number;
  /** Clock time the current run started (ms), null when not running. */
  readonly startedAt: number | null;
  readonly lastExit: ExitInfo | null;
  /** Clock time of the pending restart (ms), null unless in backoff. */
  readonly nextRestartAt: number | null;
}

/** Receives every output line of every process. */
export type LineSink = (name: string, line: string, stream: 'stdout' | 'stderr' | 'mizzen') => void;

/** Shared settings of a supervisor. */
export interface SupervisorOptions {
  readonly clock?: Clock;
  readonly backoff?: BackoffOptions;
  readonly onLine?: LineSink;
  /** Called after any process changes state (started, exited, restarting, stopped). */
  readonly onChange?: (p: SupervisedProcess) => void;
}

/** Sends a signal to a whole process group; false when it is gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** One process kept running: restarted with backoff when it exits, until stopped. */
export class SupervisedProcess {
  readonly spec: ProcessSpec;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly opts: SupervisorOptions;
  private readonly log: WriteStream | null;
  private child: ChildProcess | null = null;
  private state: ProcessState = 'stopped';
  private restarts = 0;
  private startedAt: number | null = null;
  private lastExit: ExitInfo | null = null;
  private nextRestartAt: number | null = null;
  private restartTimer: unknown = null;
  private killTimer: unknown = null;
  private waiters: (() => void)[] = [];

  constructor(spec: ProcessSpec, opts: SupervisorOptions = {}) {
    this.spec = spec;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff(opts.backoff);
    if (spec.logFile) mkdirSync(dirname(spec.logFile), { recursive: true });
    this.log = spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : null;
  }

  /** Starts the process (no-op while it runs or waits to restart). */
  start(): void {
    if (this.state === 'running' || this.state === 'backoff' || this.state === 'stopping') return;
    this.spawnOnce();
  }

  /** Current snapshot. */
  status(): ProcessStatus {
    return {
      name: this.spec.name,
      pid: this.child?.pid ?? null,
      state: this.state,
      restarts: this.restarts,
      startedAt: this.startedAt,
      lastExit: this.lastExit,
      nextRestartAt: this.nextRestartAt,
    };
  }

  /** Stops: SIGTERM to the process group, SIGKILL after the grace period; resolves once it has exited. */
  stop(): Promise<void> {
    this.cancelRestart();
    const child = this.child;
    if (!child || child.pid === undefined) {
      this.setState('stopped');
      this.closeLog();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.state !== 'stopping') {
      this.setState('stopping');
      const grace = this.spec.graceMs ?? 5000;
      const pid = child.pid;
      if (grace <= 0) killGroup(pid, 'SIGKILL');
      else {
        killGroup(pid, 'SIGTERM');
        this.killTimer = this.clock.setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
      }
    }
    return done;
  }

  /** SIGKILLs the process group at once (for process exit paths that cannot wait). */
  killNow(): void {
    this.cancelRestart();
    if (this.child?.pid !== undefined) killGroup(this.child.pid, 'SIGKILL');
  }

  private spawnOnce(): void {
    const [cmd, ...args] = this.spec.argv;
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: this.spec.cwd,
        env: this.spec.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: Ctrl-C in the terminal reaches only us, and we stop the whole group.
        detached: true,
      });
    } catch (err) {
      this.note(`cannot start: ${(err as Error).message}`);
      this.exited(127, null);
      return;
    }
    this.child = child;
    this.startedAt = this.clock.now();
    this.setState('running');
    this.pipe(child.stdout!, 'stdout');
    this.pipe(child.stderr!, 'stderr');
    let ended = false;
    child.once('error', (err) => {
      this.note(`cannot start ${cmd}: ${err.message}`);
      if (child.pid === undefined && !ended) {
        ended = true;
        this.exited(127, null);
      }
    });
    child.once('exit', (code, signal) => {
      if (ended) return;
      ended = true;
      // Leave nothing of the group behind (grandchildren holding ports would block the restart).
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      this.exited(code, signal);
    });
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    const now = this.clock.now();
    const uptime = this.startedAt === null ? 0 : now - this.startedAt;
    this.lastExit = { code, signal, at: now };
    this.startedAt = null;
    this.child = null;
    if (this.killTimer !== null) this.clock.clearTimeout(this.killTimer);
    this.killTimer = null;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.state === 'stopping') {
      this.setState('stopped');
      this.closeLog();
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    const policy = this.spec.restart ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) {
      this.note(`exited with ${how}`);
      this.setState('exited');
      return;
    }
    const delay = this.backoff.next(uptime);
    this.nextRestartAt = now + delay;
    this.note(`exited with ${how}; restarting in ${formatDelay(delay)} (restart ${this.restarts + 1})`);
    this.setState('backoff');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = null;
      this.nextRestartAt = null;
      this.restarts++;
      this.spawnOnce();
    }, delay);
  }

  private cancelRestart(): void {
    if (this.restartTimer !== null) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.nextRestartAt = null;
  }

  private pipe(stream: NodeJS.ReadableStream, which: 'stdout' | 'stderr'): void {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => this.emitLine(line, which));
  }

  private note(text: string): void {
    this.emitLine(`[mizzen] ${text}`, 'mizzen');
  }

  private emitLine(line: string, stream: 'stdout' | 'stderr' | 'mizzen'): void {
    if (this.log && this.log.writable) this.log.write(line + '\n');
    this.opts.onLine?.(this.spec.name, line, stream);
  }

  private closeLog(): void {
    if (this.log && !this.log.closed) this.log.end();
  }

  private setState(s: ProcessState): void {
    this.state = s;
    this.opts.onChange?.(this);
  }
}

function formatDelay(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A set of supervised processes by name. */
export class Supervisor {
  private readonly procs = new Map<string, SupervisedProcess>();
  private readonly opts: SupervisorOptions;

  constructor(opts: SupervisorOptions = {}) {
    this.opts = opts;
  }

  /** Adds and starts a process; a name already present is an error. */
  add(spec: ProcessSpec): SupervisedProcess {
    if (this.procs.has(spec.name)) throw new Error(`process ${spec.name} already exists`);
    const p = new SupervisedProcess(spec, this.opts);
    this.procs.set(spec.name, p);
    p.start();
    return p;
  }

  /** The process of that name. */
  get(name: string): SupervisedProcess | undefined {
    return this.procs.get(name);
  }

  /** Every process, in the order added. */
  list(): SupervisedProcess[] {
    return [...this.procs.values()];
  }

  /** Stops one process and forgets it. */
  async remove(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    this.procs.delete(name);
    await p.stop();
  }

  /** Stops every process in parallel. */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((p) => p.stop()));
  }

  /** SIGKILLs every process group at once (last resort on exit). */
  killAllNow(): void {
    for (const p of this.procs.values()) p.killNow();
  }
}
