// Where the repository, the compiled CLI and the results folder are, from this compiled file's location.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/lib/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The `mizzen` CLI entry point. */
export const mizzenBin = join(repoRoot, 'bin', 'mizzen.js');

/** Compiled bench scripts (dist/bench). */
export const benchDist = join(repoRoot, 'dist', 'bench');

/** Where reports are written. */
export const resultsDir = join(repoRoot, 'bench', 'results');
