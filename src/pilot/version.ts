// Mizzen's own version (package.json), which the control plane reports as istiod reports its own.
import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** The `version` of Mizzen's package.json, e.g. `0.1.0`; `unknown` when it cannot be read. */
export function mizzenVersion(): string {
  if (cached !== null) return cached;
  try {
    // Compiled to dist/src/pilot/version.js; package.json sits at the root of the checkout or package.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    cached = pkg.name === 'mizzen' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
