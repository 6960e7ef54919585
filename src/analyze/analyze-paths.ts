// Loads config and analyzes it: everything `mizzen analyze` reports, in file order.
import type { Diagnostic } from '../api/diagnostic.js';
import { sortDiagnostics } from '../api/diagnostic.js';
import { loadPaths, type LoadOptions } from '../api/load.js';
import type { Resource } from '../api/resource.js';
import { analyzeResources } from './analyze.js';
import { MESSAGES } from './messages.js';

/** What `mizzen analyze` found. */
export interface AnalysisResult {
  /** Resources that loaded (and were analyzed). */
  readonly resources: Resource[];
  /** Load problems (as IST0106/IST0133) and analyzer findings, sorted by file and line. */
  readonly diagnostics: Diagnostic[];
}

/** Loads `paths` and analyzes what loaded; schema problems are reported as Istio's schema messages. */
export function analyzePaths(paths: readonly string[], opts: LoadOptions = {}): AnalysisResult {
  const loaded = loadPaths(paths, opts);
  const diagnostics = [...loaded.diagnostics.map(asSchemaMessage), ...analyzeResources(loaded.resources)];
  return { resources: loaded.resources, diagnostics: sortDiagnostics(diagnostics) };
}

/** A load diagnostic under Istio's code: errors are IST0106, warnings IST0133. */
function asSchemaMessage(d: Diagnostic): Diagnostic {
  if (d.code?.startsWith('IST')) return d;
  const type = d.severity === 'error' ? MESSAGES.SchemaValidationError : MESSAGES.SchemaWarning;
  return { ...d, code: type.code };
}
