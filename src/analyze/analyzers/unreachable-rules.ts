// VirtualService rules that can never match: after a catch-all rule, or with only duplicate matches.
import type { Resource } from '../../api/resource.js';
import { field, type AnalysisContext, type Analyzer } from '../analyzer.js';
import { MESSAGES } from '../messages.js';
import type { HTTPMatchRequest } from '../../api/kinds/networking/virtual-service.js';
import { isCatchAllMatch, vsSpec } from '../virtual-service-walk.js';

/** A rule of any protocol, as far as reachability goes. */
interface RuleLike {
  name?: string;
  match?: HTTPMatchRequest[];
}

/**
 * First match wins, so a rule after one that matches every request is unreachable (IST0130), and a
 * match entry equal to an earlier rule's is ineffective (IST0131; IST0130 when all of a rule's are).
 */
export const unreachableRulesAnalyzer: Analyzer = {
  name: 'virtualservice.UnreachableRulesAnalyzer',
  description: 'Checks for VirtualService rules and matches that earlier rules make unreachable',
  analyze(ctx) {
    for (const r of ctx.index.ofKind('VirtualService')) {
      const vs = vsSpec(r);
      for (const proto of ['http', 'tcp', 'tls'] as const) {
        const rules = vs[proto];
        if (rules) checkRules(ctx, r, proto, rules);
      }
    }
  },
};

function label(rule: RuleLike, i: number): string {
  return rule.name ? JSON.stringify(rule.name) : `#${i}`;
}

function checkRules(ctx: AnalysisContext, r: Resource, proto: string, rules: RuleLike[]): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  rules.forEach((rule, i) => {
    const path = `spec.${proto}[${i}]`;
    if (catchAll >= 0) {
      ctx.report(
        MESSAGES.VirtualServiceUnreachableRule,
        r,
        field(rules, i, path),
        `VirtualService rule ${label(rule, i)} not used (rule ${label(rules[catchAll], catchAll)} before it matches every request; rules are tried in order and the first match wins).`,
      );
      return;
    }
    const matches = rule.match ?? [];
    if (matches.length === 0) {
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      const k = canonical(m);
      const earlier = seen.get(k);
      if (earlier === undefined) {
        seen.set(k, i);
        return;
      }
      duplicates++;
      ctx.report(
        MESSAGES.VirtualServiceIneffectiveMatch,
        r,
        field(matches, j, `${path}.match[${j}]`),
        `VirtualService rule ${label(rule, i)} match ${m.name ? JSON.stringify(m.name) : `#${j}`} is not used (duplicate/overlapping match in rule ${label(rules[earlier], earlier)}).`,
      );
    });
    if (duplicates === matches.length) {
      ctx.report(
        MESSAGES.VirtualServiceUnreachableRule,
        r,
        field(rules, i, path),
        `VirtualService rule ${label(rule, i)} not used (all matches used by prior rules).`,
      );
    }
    if (matches.some(isCatchAllMatch)) catchAll = i;
  });
}

/** A match entry as a key independent of field order and of its name. */
function canonical(m: HTTPMatchRequest): string {
  const { name: _n, statPrefix: _s, ...rest } = m;
  return JSON.stringify(sortKeys(rest));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}
