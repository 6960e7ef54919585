// Where a generated route came from: its VirtualService, the rule (spec.http[i]) and match entry, with
// the file:line:col the control plane loaded them from.
import { positionsOf } from '../../api/positions.js';
import { sourceOf } from '../../api/resource.js';
import type { PushContext } from '../push-context.js';

/** A VirtualService rule, located. */
export interface RuleSource {
  /** `VirtualService ns/name`. */
  readonly resource: string;
  /** Index into spec.http (-1 unknown). */
  readonly http: number;
  /** Index into that rule's match list (-1: match-all or merged). */
  readonly match: number;
  /** The rule's name when it has one. */
  readonly ruleName?: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

const CONFIG_PATH = /^\/apis\/networking\.istio\.io\/[^/]+\/namespaces\/([^/]+)\/virtual-service\/([^/]+)$/;

/** Locates rule `http` (and match entry `match`) of the VirtualService Istio's metadata path names. */
export function ruleSource(
  push: PushContext,
  config: string,
  http: number,
  match: number,
): RuleSource | undefined {
  const m = CONFIG_PATH.exec(config);
  if (!m) return undefined;
  const resource = `VirtualService ${m[1]}/${m[2]}`;
  const vs = push.virtualServicesByName.get(`${m[1]}/${m[2]}`);
  if (!vs) return { resource, http, match };
  const rules = vs.resource.spec.http ?? [];
  const rule = http >= 0 ? rules[http] : undefined;
  const pos =
    (rule && match >= 0 && rule.match ? positionsOf(rule.match)?.values.get(match) : undefined) ??
    (http >= 0 ? positionsOf(rules)?.values.get(http) : undefined);
  const src = sourceOf(vs.resource);
  return {
    resource,
    http,
    match,
    ...(rule?.name ? { ruleName: rule.name } : {}),
    ...(pos
      ? { file: pos.file, line: pos.line, col: pos.col }
      : src
        ? { file: src.file, line: src.line, col: src.col }
        : {}),
  };
}
