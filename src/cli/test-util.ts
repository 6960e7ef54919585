// Test helpers for the `mizzen` command: run the real CLI of this checkout as a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `mizzen` command of this checkout. */
export const BIN = fileURLToPath(new URL('../../../bin/mizzen.js', import.meta.url));
/** Absolute path of examples/ (with a trailing slash). */
export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/** What a finished `mizzen` command printed. */
export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs `mizzen ARGS` to completion without blocking this process's event loop (tests often serve
 * traffic meanwhile); `input` goes to stdin; killed after `timeoutMs`.
 */
export function runMizzen(args: string[], input?: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
