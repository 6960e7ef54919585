// Expands -f arguments (files, directories, `-` for stdin) into the texts to load.
import { readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { Diagnostic } from './diagnostic.js';
import { fileTooLarge, MAX_FILE_BYTES } from './size-limits.js';

/** A file's text with the name used in messages. */
export interface SourceText {
  readonly file: string;
  readonly text: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Reads every path: a file as is, a directory recursively (only .yaml/.yml/.json, sorted by name,
 * hidden entries skipped), `-` from stdin. Unreadable paths, and files over {@link MAX_FILE_BYTES}
 * (checked before reading), become diagnostics.
 */
export function readSources(
  paths: readonly string[],
  stdin?: () => string,
): { sources: SourceText[]; diagnostics: Diagnostic[] } {
  const sources: SourceText[] = [];
  const diagnostics: Diagnostic[] = [];
  const fail = (file: string, message: string): void => {
    diagnostics.push({ severity: 'error', file, line: 1, col: 1, path: '', message, code: 'MZ-FILE' });
  };
  for (const p of paths) {
    if (p === '-') {
      const text = stdin ? stdin() : readStdin();
      if (text === null || text.length > MAX_FILE_BYTES)
        diagnostics.push(fileTooLarge('-', MAX_FILE_BYTES + 1));
      else sources.push({ file: '-', text });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      fail(p, 'no such file or directory; check the path given to -f');
      continue;
    }
    for (const [f, size] of st.isDirectory() ? walk(p) : [[p, st.size] as const]) {
      if (size > MAX_FILE_BYTES) {
        diagnostics.push(fileTooLarge(f, size));
        continue;
      }
      try {
        sources.push({ file: f, text: readFileSync(f, 'utf8') });
      } catch (err) {
        fail(f, `cannot read: ${(err as Error).message}`);
      }
    }
  }
  return { sources, diagnostics };
}

/** Config files under `dir` with their sizes, sorted by name. */
function walk(dir: string): Array<readonly [string, number]> {
  const out: Array<readonly [string, number]> = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (EXTENSIONS.has(extname(name).toLowerCase())) out.push([p, st.size]);
  }
  return out;
}

/** Reads stdin up to {@link MAX_FILE_BYTES}; null when there is more. */
function readStdin(): string | null {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_FILE_BYTES) return null;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
