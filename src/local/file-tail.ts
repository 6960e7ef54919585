// Reads what was appended to a file since the last look (for `up -d` progress and `logs -f`).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Returns a function that yields the bytes appended to `file` since its last call (from `start`,
 * default the beginning); a file that shrank (truncated, recreated) is read again from the start.
 */
export function fileTail(file: string, start = 0): () => string {
  let pos = start;
  return () => {
    if (!existsSync(file)) return '';
    if (statSync(file).size < pos) pos = 0;
    const fd = openSync(file, 'r');
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        pos += n;
      }
      return Buffer.concat(chunks).toString('utf8');
    } finally {
      closeSync(fd);
    }
  };
}
