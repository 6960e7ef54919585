// Size limits on config input, checked before anything is read or parsed: parsing YAML takes ~100
// times its size in memory (a 20 MiB file peaked at 2 GB), so one oversized file must be refused,
// not loaded. Documents are split at `---` lines and parsed one at a time.
import type { Diagnostic } from './diagnostic.js';

/** Largest document accepted, bytes: Kubernetes' limit on an object (etcd's 1.5 MiB request cap). */
export const MAX_DOCUMENT_BYTES = 1.5 * 1024 * 1024;

/** Largest config file accepted, bytes (8 MiB: several hundred ordinary Istio resources). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** Sizes in messages: `2.1 MiB`, `900 KiB`. */
export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/** The diagnostic for a file over {@link MAX_FILE_BYTES}. */
export function fileTooLarge(file: string, size: number): Diagnostic {
  return {
    severity: 'error',
    file,
    line: 1,
    col: 1,
    path: '',
    message: `file is ${formatBytes(size)}, over the ${formatBytes(MAX_FILE_BYTES)} limit on a config file; split it into several files`,
    code: 'MZ-TOO-LARGE',
  };
}

/** The diagnostic for document `index` (0-based) over {@link MAX_DOCUMENT_BYTES}, starting at `line`. */
export function documentTooLarge(file: string, index: number, line: number, size: number): Diagnostic {
  return {
    severity: 'error',
    file,
    line,
    col: 1,
    path: '',
    message:
      `document ${index + 1} is ${formatBytes(size)}, over the ${formatBytes(MAX_DOCUMENT_BYTES)} limit on one ` +
      'object (as in Kubernetes); split it into several resources',
    code: 'MZ-TOO-LARGE',
  };
}
