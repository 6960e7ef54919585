// Child processes for the benchmarks: start, wait for a log line or a port, run to completion, stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** A long-running child (a server or proxy) started by {@link startProcess}. */
export interface Running {
  /** The child. */
  readonly child: ChildProcess;
  /** Its pid. */
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr, last 64 KiB). */
  output(): string;
  /** Sends SIGTERM (then SIGKILL after `graceMs`, default 3000) and waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startProcess}. */
export interface StartOptions {
  /** Resolve once this matches the output (stdout or stderr). */
  waitFor?: RegExp;
  /** Resolve once this TCP port on 127.0.0.1 accepts connections. */
  waitForPort?: number;
  /** Resolve once this file exists. */
  waitForFile?: string;
  /** Give up after this long, ms (default 20000). */
  timeoutMs?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Also write everything it prints to this file (the whole output, not the last 64 KiB). */
  logFile?: string;
  /** Run it on these CPUs only (`taskset -c`, e.g. "1"); taskset execs it, so the pid is its own. */
  cpus?: string;
}

const KEEP = 64 * 1024;
const live = new Set<Running>();

/** Stops every process {@link startProcess} started that is still running (for SIGINT/SIGTERM handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop(1000)));
}

/** Starts a child and resolves when it is ready (log line or open port); rejects if it exits first. */
export async function startProcess(cmd: string, args: string[], opts: StartOptions = {}): Promise<Running> {
  const [file0, args0] = opts.cpus ? ['taskset', ['-c', opts.cpus, cmd, ...args]] : [cmd, args];
  const child = spawn(file0, args0, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  let out = '';
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const file = opts.logFile ? createWriteStream(opts.logFile) : null;
  file?.on('error', () => {}); // the log is a convenience; the run goes on without it
  if (file) void exitPromise.then(() => file.end());
  const onData = (d: Buffer): void => {
    file?.write(d);
    out += d.toString();
    if (out.length > KEEP * 2) out = out.slice(-KEEP);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  void exitPromise.then(() => {
    exited = true;
    live.delete(running);
  });
  const running: Running = {
    child,
    pid: child.pid ?? 0,
    output: () => out,
    stop: async (graceMs = 3000) => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  live.add(running);
  const deadline = Date.now() + (opts.timeoutMs ?? 20000);
  for (;;) {
    if (exited) throw new Error(`${cmd} ${args.join(' ')} exited early:\n${out.slice(-4000)}`);
    if (opts.waitFor?.test(out)) break;
    if (opts.waitForPort && (await portOpen(opts.waitForPort))) break;
    if (opts.waitForFile && existsSync(opts.waitForFile)) break;
    if (!opts.waitFor && !opts.waitForPort && !opts.waitForFile) break;
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(
        `${cmd} ${args.join(' ')} not ready after ${opts.timeoutMs ?? 20000} ms:\n${out.slice(-4000)}`,
      );
    }
    await sleep(50);
  }
  return running;
}

/** Result of {@link runProcess}. */
export interface RunResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output. */
export function runProcess(cmd: string, args: string[], env?: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** True when 127.0.0.1:port accepts a TCP connection. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

let nextPort = 20000 + Math.floor(Math.random() * 8000);

/**
 * A free TCP port on 127.0.0.1, never the same twice in one run, from 20000–29999 (below Linux's
 * ephemeral range, so an outgoing connection cannot take it before the server binds it).
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = nextPort++;
    if (nextPort >= 30000) nextPort = 20000;
    if (await canBind(port)) return port;
  }
  throw new Error('no free port in 20000-29999');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Keeps this process (every thread) and the children it starts from now on to `cpus` (`taskset -a -p`):
 * the benchmark then runs its load generators and backend there, and the proxy under test elsewhere.
 */
export function pinThisProcess(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}
