// Atomic file replacement (Istio's file.AtomicWrite): write a temporary file beside the target, then
// rename it over the target, so a reader sees the old content or the new, never a half-written file.
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/** Replaces `file` with `data` in one rename; `mode` applies to the new file (e.g. 0o600 for keys). */
export function atomicWrite(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
