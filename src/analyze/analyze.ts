// Runs the analyzers over loaded resources.
import type { Diagnostic } from '../api/diagnostic.js';
import type { Resource } from '../api/resource.js';
import { AnalysisContext, type Analyzer } from './analyzer.js';
import { ANALYZERS } from './analyzers/index.js';
import { MeshIndex } from './mesh-index.js';

/** Runs `analyzers` (default: all) over `resources`; a crashing analyzer becomes an IST0001 error. */
export function analyzeResources(
  resources: readonly Resource[],
  analyzers: readonly Analyzer[] = ANALYZERS,
): Diagnostic[] {
  const ctx = new AnalysisContext(new MeshIndex(resources));
  for (const a of analyzers) {
    try {
      a.analyze(ctx);
    } catch (err) {
      ctx.diagnostics.push({
        severity: 'error',
        file: '<analyzer>',
        line: 1,
        col: 1,
        path: '',
        message: `Internal error: analyzer ${a.name} failed: ${(err as Error).message}`,
        code: 'IST0001',
      });
    }
  }
  return ctx.diagnostics;
}
