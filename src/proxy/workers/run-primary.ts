// `mizzen proxy --concurrency N` in the process the user started: runs the primary until SIGTERM, SIGINT
// or admin /quitquitquit, and never leaves a worker behind.
import { ProxyPrimary, type PrimaryOptions } from './primary.js';

/** Runs the primary; resolves with the exit code (1 when a worker or admin failed to start). */
export async function runPrimary(opts: PrimaryOptions): Promise<number> {
  const p = new ProxyPrimary(opts);
  const stop = (): void => void p.stop(0);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await p.start();
  } catch (e) {
    process.stderr.write(`mizzen proxy: ${(e as Error).message}\n`);
  }
  const code = await p.done;
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
  return code;
}
