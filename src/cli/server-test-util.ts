// Test helpers: run `mizzen server` as a child process on port 0 and wait for conditions.
import { spawn, type ChildProcess } from 'node:child_process';

/** A running `mizzen server` child. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** `host:port` of the xDS server. */
  readonly xds: string;
  /** `host:port` of the debug HTTP server. */
  readonly debug: string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `mizzen server --config dir` on 127.0.0.1 port 0 and resolves once both addresses are printed. */
export function startServer(dir: string, extra: readonly string[] = []): Promise<ServerProcess> {
  return startServerWith(['--config', dir, ...extra]);
}

/** Starts `mizzen server ARGS` on 127.0.0.1 port 0 (e.g. `--etcd URL`) and resolves once both addresses are printed. */
export function startServerWith(args: string[]): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['bin/mizzen.js', 'server', ...args, '--xds-address', '127.0.0.1:0', '--debug-address', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let exited = false;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mizzen server did not start within 60 s:\n${out}\n${err}`));
      // A deadline, not a timing: on a loaded 2-core machine a cold start has taken over 20 s.
    }, 60_000);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`mizzen server exited early:\n${out}\n${err}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const xds = /xds listening on (\S+)/.exec(out);
      const debug = /debug listening on (\S+)/.exec(out);
      if (!xds || !debug) return;
      clearTimeout(timer);
      resolve({
        child,
        xds: xds[1],
        debug: debug[1],
        stderr: () => err,
        stdout: () => out,
        stop: async () => {
          if (!exited) child.kill('SIGTERM');
          await exit;
        },
      });
    });
  });
}

export { waitFor } from '../api/test-util.js';
