// Parses YAML or JSON text into plain documents that remember their source positions.
import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, isAlias, isPair } from 'yaml';
import type { Node as YamlNode, Document } from 'yaml';
import type { Diagnostic } from './diagnostic.js';
import { setPositions, type Pos } from './positions.js';
import { documentTooLarge, MAX_DOCUMENT_BYTES } from './size-limits.js';

/** One document of a file, as plain data with positions recorded for every container. */
export interface RawDocument {
  readonly file: string;
  /** 0-based index of the document within its file. */
  readonly index: number;
  /** Position of the document's first content. */
  readonly pos: Pos;
  /** The parsed value (usually an object); nulls inside objects are pruned as Kubernetes does. */
  readonly value: unknown;
}

/** Result of parsing one file. */
export interface ParsedFile {
  readonly docs: RawDocument[];
  readonly diagnostics: Diagnostic[];
}

const MAX_DEPTH = 200;

/**
 * Parses every document in `text` (`---` separated YAML, or JSON). Syntax errors become positioned
 * diagnostics with a hint of what to do; documents with syntax errors are dropped, the others kept.
 */
export function parseYamlText(text: string, file: string): ParsedFile {
  const diagnostics: Diagnostic[] = [];
  const docs: RawDocument[] = [];
  // Small texts parse whole; larger ones a document at a time, each checked against the size limit
  // first, so memory stays bounded by the largest document (YAML parsing takes ~100x the text).
  if (text.length * 3 <= MAX_DOCUMENT_BYTES || Buffer.byteLength(text) <= MAX_DOCUMENT_BYTES) {
    parseDocuments(text, file, 0, 0, docs, diagnostics);
    return { docs, diagnostics };
  }
  let index = 0;
  for (const chunk of splitDocuments(text)) {
    const size = Buffer.byteLength(chunk.text);
    if (size > MAX_DOCUMENT_BYTES) {
      diagnostics.push(documentTooLarge(file, index++, chunk.line, size));
      continue;
    }
    index += parseDocuments(chunk.text, file, chunk.line - 1, index, docs, diagnostics);
  }
  return { docs, diagnostics };
}

/**
 * Parses YAML embedded in a string field (e.g. the `mesh` key of the istio ConfigMap) whose first line
 * is line `lineOffset + 1` of `file`, so its diagnostics and positions point into that file.
 */
export function parseEmbeddedYaml(text: string, file: string, lineOffset: number): ParsedFile {
  const diagnostics: Diagnostic[] = [];
  const docs: RawDocument[] = [];
  parseDocuments(text, file, lineOffset, 0, docs, diagnostics);
  return { docs, diagnostics };
}

/** A piece of a YAML stream that starts at a `---` line (or the start), and its first line (1-based). */
interface Chunk {
  text: string;
  line: number;
}

/**
 * Splits a YAML stream before every `---` document marker at the start of a line. YAML forbids such
 * a line inside any scalar, so this cut is exactly the parser's.
 */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  let startLine = 1;
  let line = 1;
  let scanned = 0;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index === 0) continue;
    line += countNewlines(text, scanned, m.index);
    scanned = m.index;
    chunks.push({ text: text.slice(start, m.index), line: startLine });
    start = m.index;
    startLine = line;
  }
  chunks.push({ text: text.slice(start), line: startLine });
  return chunks;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Parses the documents of `text`, whose first line is line `lineOffset + 1` of the file and whose
 * first document is number `firstIndex`; appends them and their diagnostics; returns how many it saw.
 */
function parseDocuments(
  text: string,
  file: string,
  lineOffset: number,
  firstIndex: number,
  docs: RawDocument[],
  diagnostics: Diagnostic[],
): number {
  const lc = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, {
      lineCounter: lc,
      prettyErrors: false,
      // Duplicate keys are found in toPlain: the library's own check is quadratic in a map's size
      // (50,000 keys took 40 s), which would let one file stall the loader.
      uniqueKeys: false,
      strict: true,
    });
  } catch (err) {
    diagnostics.push(
      mkDiag(file, { line: lineOffset + 1, col: 1 }, `cannot parse: ${(err as Error).message}`),
    );
    return 1;
  }
  const lines = text.split('\n');
  const at = (offset: number): { line: number; col: number } => {
    const p = lc.linePos(offset);
    return { line: p.line + lineOffset, col: p.col };
  };
  let index = firstIndex;
  const reported = new Set<string>();
  for (const doc of parsed) {
    const i = index++;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = at(e.pos[0]);
        const message = yamlErrorMessage(e.code, e.message, lines[p.line - lineOffset - 1] ?? '');
        // One tab can raise several library errors on its line; they all read the same once explained.
        if (reported.has(`${p.line}|${message}`)) continue;
        reported.add(`${p.line}|${message}`);
        diagnostics.push(mkDiag(file, p, message));
      }
      continue;
    }
    for (const w of doc.warnings) {
      const p = at(w.pos[0]);
      diagnostics.push({ ...mkDiag(file, p, w.message.split('\n')[0] ?? w.message), severity: 'warning' });
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue; // empty document
    const start = at(contents.range?.[0] ?? 0);
    try {
      const duplicates: Diagnostic[] = [];
      const value = toPlain(contents, file, at, 0, duplicates);
      if (duplicates.length > 0) diagnostics.push(...duplicates);
      else docs.push({ file, index: i, pos: { file, ...start }, value });
    } catch (err) {
      diagnostics.push(mkDiag(file, start, (err as Error).message));
    }
  }
  // A `//` comment usually parses as a plain scalar key; name it explicitly.
  const flagged = new Set(diagnostics.map((d) => d.line)); // a Set: one scan per line was quadratic
  lines.forEach((l, n) => {
    const t = l.trimStart();
    const line = n + 1 + lineOffset;
    if (t.startsWith('//') && !flagged.has(line)) {
      diagnostics.push(
        mkDiag(file, { line, col: l.length - t.length + 1 }, 'YAML comments start with "#", not "//"'),
      );
    }
  });
  return parsed.length;
}

function mkDiag(file: string, p: { line: number; col: number }, message: string): Diagnostic {
  return { severity: 'error', file, line: p.line, col: p.col, path: '', message, code: 'MZ-YAML-SYNTAX' };
}

/** Turns the yaml library's error into one line that says what to do. */
function yamlErrorMessage(code: string, message: string, line: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'TAB_AS_INDENT' || /^\s*\t/.test(line)) {
    return 'YAML syntax error: tab used for indentation; indent with spaces only';
  }
  if (line.trimStart().startsWith('//')) return 'YAML syntax error: comments start with "#", not "//"';
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return `YAML syntax error: ${first}; check the indentation of this line against its parent and siblings`;
    case 'DUPLICATE_KEY':
      return `YAML syntax error: ${first}; each field may appear once per object`;
    case 'MULTILINE_IMPLICIT_KEY':
      return `YAML syntax error: ${first}; a "key: value" line is probably missing its colon or is mis-indented`;
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `YAML syntax error: ${first}; check for a missing "-" or mis-indented block`;
    default:
      return `YAML syntax error: ${first}`;
  }
}

function toPlain(
  node: YamlNode | null | undefined,
  file: string,
  at: (o: number) => { line: number; col: number },
  depth: number,
  duplicates: Diagnostic[],
): unknown {
  if (depth > MAX_DEPTH) throw new Error(`document nests deeper than ${MAX_DEPTH} levels`);
  if (node === null || node === undefined) return null;
  if (isAlias(node))
    throw new Error('YAML aliases (*name) are not supported in Mizzen config; repeat the value');
  if (isScalar(node)) return node.value;
  const pos = (n: YamlNode | null | undefined, fallback: Pos): Pos =>
    n?.range ? { file, ...at(n.range[0]) } : fallback;
  const self: Pos = { file, ...at(node.range?.[0] ?? 0) };
  if (isSeq(node)) {
    const out: unknown[] = [];
    const keys = new Map<number, Pos>();
    const values = new Map<number, Pos>();
    for (const item of node.items) {
      const v = toPlain(item as YamlNode, file, at, depth + 1, duplicates);
      const p = pos(item as YamlNode, self);
      keys.set(out.length, p);
      values.set(out.length, p);
      out.push(v);
    }
    setPositions(out, { self, keys, values });
    return out;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const keys = new Map<string, Pos>();
    const values = new Map<string, Pos>();
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key as YamlNode | null;
      const keyVal = k === null ? '' : isScalar(k) ? k.value : null;
      if (keyVal === null || typeof keyVal === 'object') {
        throw new Error(`line ${pos(k, self).line}: only plain string keys are allowed in config`);
      }
      const key = String(keyVal);
      if (seen.has(key)) {
        const kp = pos(k, self);
        duplicates.push(
          mkDiag(
            file,
            kp,
            `YAML syntax error: duplicate key ${JSON.stringify(key)}; each field may appear once per object`,
          ),
        );
        continue;
      }
      seen.add(key);
      const v = toPlain(pair.value as YamlNode | null, file, at, depth + 1, duplicates);
      if (v === null) continue; // Kubernetes prunes nulls
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      keys.set(key, pos(k, self));
      values.set(key, pos(pair.value as YamlNode | null, pos(k, self)));
    }
    setPositions(out, { self, keys, values });
    return out;
  }
  throw new Error('unsupported YAML node');
}
