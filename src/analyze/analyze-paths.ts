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
  const findings = analyzeResources(loaded.resources);
  // Validators warn about some of the same things (IST0130/IST0131); the analyzer's finding stands.
  const found = new Set(findings.map(key));
  const fromLoad = loaded.diagnostics.map(asSchemaMessage).filter((d) => !found.has(key(d)));
  return { resources: loaded.resources, diagnostics: sortDiagnostics([...fromLoad, ...findings]) };
}

/** Load problems that are not about a resource's schema keep their own codes. */
const NOT_SCHEMA = new Set(['MZ-FILE', 'MZ-DUPLICATE']);

/** A load diagnostic under Istio's code: schema errors are IST0106, schema warnings IST0133. */
function asSchemaMessage(d: Diagnostic): Diagnostic {
  if (d.code?.startsWith('IST') || (d.code && NOT_SCHEMA.has(d.code))) return d;
  const type = d.severity === 'error' ? MESSAGES.SchemaValidationError : MESSAGES.SchemaWarning;
  return { ...d, code: type.code };
}

function key(d: Diagnostic): string {
  return `${d.code ?? ''}|${d.file}|${d.line}|${d.col}|${d.path}`;
}
