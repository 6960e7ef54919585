// envoy.config.core.v3.DataSource: bytes from a file, inline bytes/string or an environment variable.
import { readFileSync } from 'node:fs';
import type { envoy_config_core_v3_DataSource as DataSource } from '../../xds/envoy-types.js';

/** Reads a canonical DataSource; null when absent or empty. Throws naming the file when it cannot be read. */
export function readDataSource(ds: DataSource | null | undefined, field: string): Buffer | null {
  if (!ds || typeof ds !== 'object') return null;
  // Files are read when the config or secret is applied, never re-read on a directory change.
  if (ds.watchedDirectory !== undefined)
    throw new Error(
      `${field}.watchedDirectory is not supported by this proxy (the file is read once, when applied)`,
    );
  if (ds.filename !== undefined) {
    try {
      return readFileSync(ds.filename);
    } catch (e) {
      throw new Error(
        `${field}.filename: cannot read ${ds.filename}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  if (ds.inlineBytes !== undefined) {
    const v: unknown = ds.inlineBytes;
    // Canonical form carries bytes as Buffers; hand-written JSON carries base64 strings.
    if (typeof v === 'string') return Buffer.from(v, 'base64');
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (Array.isArray(v)) return Buffer.from(v as number[]);
    if (v && typeof v === 'object' && Array.isArray((v as { data?: unknown }).data))
      return Buffer.from((v as { data: number[] }).data);
    throw new Error(`${field}.inlineBytes: not bytes`);
  }
  if (ds.inlineString !== undefined) return Buffer.from(ds.inlineString, 'utf8');
  if (ds.environmentVariable !== undefined) {
    const v = process.env[ds.environmentVariable];
    if (v === undefined)
      throw new Error(`${field}.environmentVariable: ${ds.environmentVariable} is not set`);
    return Buffer.from(v, 'utf8');
  }
  return null;
}
