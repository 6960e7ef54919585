// Positioned problems found while loading, validating or analyzing config.

/** How bad a problem is; `error` rejects the resource, the others only inform. */
export type Severity = 'error' | 'warning' | 'info';

/** One problem, pinned to a file position and a field path inside the document. */
export interface Diagnostic {
  readonly severity: Severity;
  /** File the document came from (`-` for stdin). */
  readonly file: string;
  /** 1-based line and column of the offending value (or key, for unknown fields). */
  readonly line: number;
  readonly col: number;
  /** Field path inside the document, e.g. `spec.http[0].route[1].weight`; empty for whole-file problems. */
  readonly path: string;
  /** What is wrong and what was expected. */
  readonly message: string;
  /** Stable code for machines: Istio's analyzer codes (IST0101…) or Mizzen's (e.g. `MZ-UNKNOWN-FIELD`). */
  readonly code?: string;
  /** `Kind namespace/name` of the resource, when known. */
  readonly resource?: string;
}

/** `file:line:col: path: message` — the one format every command prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const sev = d.severity === 'error' ? '' : `${d.severity}: `;
  const path = d.path ? `${d.path}: ` : '';
  return `${where}: ${sev}${path}${d.message}`;
}

/** Orders diagnostics by file, then line, then column, so output reads top to bottom. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1,
  );
}

/** True when any diagnostic is an error. */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
