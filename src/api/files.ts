// Expands -f arguments (files, directories, `-` for stdin) into the texts to load.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { Diagnostic } from './diagnostic.js';

/** A file's text with the name used in messages. */
export interface SourceText {
  readonly file: string;
  readonly text: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Reads every path: a file as is, a directory recursively (only .yaml/.yml/.json, sorted by name,
 * hidden entries skipped), `-` from stdin. Unreadable paths become diagnostics.
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
      sources.push({ file: '-', text: stdin ? stdin() : readFileSync(0, 'utf8') });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      fail(p, 'no such file or directory; check the path given to -f');
      continue;
    }
    if (st.isDirectory()) {
      for (const f of walk(p)) sources.push({ file: f, text: readFileSync(f, 'utf8') });
    } else {
      try {
        sources.push({ file: p, text: readFileSync(p, 'utf8') });
      } catch (err) {
        fail(p, `cannot read: ${(err as Error).message}`);
      }
    }
  }
  return { sources, diagnostics };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (EXTENSIONS.has(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}
