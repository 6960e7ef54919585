// What an analyzer is, and the context it reports through.
import type { Diagnostic } from '../api/diagnostic.js';
import { resourceName, sourceOf, type Resource } from '../api/resource.js';
import { valuePos } from '../api/positions.js';
import type { MeshIndex } from './mesh-index.js';
import type { MessageType } from './messages.js';

/** The field a finding is about: its container and key (for the position) and its path (for people). */
export interface FieldRef {
  readonly holder: object | undefined;
  readonly key: string | number | undefined;
  /** e.g. `spec.http[0].route[1].destination.host`. */
  readonly path: string;
}

/** A field reference; a helper so analyzers read `field(route, 'host', path)`. */
export function field(holder: object | undefined, key: string | number | undefined, path: string): FieldRef {
  return { holder, key, path };
}

/** What an analyzer sees: the index, and a way to report. */
export class AnalysisContext {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly index: MeshIndex) {}

  /** Reports a finding about `r`, positioned at the field `f` (falling back to the resource's start). */
  report(type: MessageType, r: Resource, f: FieldRef, message: string): void {
    const p = valuePos(f.holder, f.key) ?? sourceOf(r) ?? { file: '<unknown>', line: 1, col: 1 };
    this.diagnostics.push({
      severity: type.level,
      file: p.file,
      line: p.line,
      col: p.col,
      path: f.path,
      message,
      code: type.code,
      resource: resourceName(r),
    });
  }
}

/** One cross-resource check. */
export interface Analyzer {
  /** e.g. `virtualservice.DestinationHostAnalyzer`, after Istio's analyzer names. */
  readonly name: string;
  /** One line on what it checks. */
  readonly description: string;
  analyze(ctx: AnalysisContext): void;
}
