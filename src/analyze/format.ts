// How `mizzen analyze` prints a finding: our file:line:col form followed by istioctl's line.
import type { Diagnostic, Severity } from '../api/diagnostic.js';
import { documentationUrl } from './messages.js';

const LEVEL: Record<Severity, string> = { error: 'Error', warning: 'Warning', info: 'Info' };

/**
 * `reviews.yaml:12:17: Error [IST0101] (VirtualService default/reviews) spec.http[0].route[0].destination.host: Referenced host not found: "reviewz"`
 * — the position first (editors jump to it), then level, code and resource as istioctl prints them.
 */
export function formatFinding(d: Diagnostic): string {
  const code = d.code ? ` [${d.code}]` : '';
  const resource = d.resource ? ` (${d.resource})` : '';
  const path = d.path ? ` ${d.path}:` : '';
  return `${d.file}:${d.line}:${d.col}: ${LEVEL[d.severity]}${code}${resource}${path} ${d.message}`;
}

/** A finding as `-o json` prints it: istioctl's fields (code, level, origin, documentationUrl) plus ours. */
export function findingJson(d: Diagnostic): Record<string, unknown> {
  const url = d.code ? documentationUrl(d.code) : undefined;
  return {
    code: d.code ?? null,
    level: LEVEL[d.severity],
    origin: d.resource ?? null,
    reference: `${d.file}:${d.line}:${d.col}`,
    file: d.file,
    line: d.line,
    col: d.col,
    path: d.path,
    message: d.message,
    ...(url ? { documentationUrl: url } : {}),
  };
}

/** `2 errors, 1 warning, 0 info`. */
export function countLine(ds: readonly Diagnostic[]): string {
  const n = (s: Severity): number => ds.filter((d) => d.severity === s).length;
  const plural = (k: number, w: string): string => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `${plural(n('error'), 'error')}, ${plural(n('warning'), 'warning')}, ${n('info')} info`;
}
