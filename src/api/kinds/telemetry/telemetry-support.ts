// What of a Telemetry resource Mizzen enforces: everything else gets a loud warning at validate, apply,
// up and in the server log, instead of being accepted and silently ignored.
import { child, fieldAt, type At, type Checker } from '../../schema.js';
import type { TelemetrySpec } from './telemetry.js';

/** A `response.code` comparison list (what access-log filters compile to), e.g. `response.code >= 400`. */
export const RESPONSE_CODE_FILTER =
  /^\s*response\.code\s*(>=|<=|==|!=|>|<)\s*\d{1,3}\s*((&&|\|\|)\s*response\.code\s*(>=|<=|==|!=|>|<)\s*\d{1,3}\s*)*$/;

/** A CEL string literal (the only tag value the metrics filter evaluates). */
export const CEL_STRING_LITERAL = /^\s*(['"]).*\1\s*$/;

const UNSUPPORTED_METRICS = new Set(['GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES']);

/** Warns about every Telemetry field that would not take effect. */
export function warnUnenforced(s: TelemetrySpec, at: At, c: Checker): void {
  const warn = (where: At, what: string): void => c.warn(where, `${what}; it has no effect in Mizzen`);
  if (s.targetRef) warn(fieldAt(at, s, 'targetRef'), 'targetRef is not enforced (use selector)');
  if (s.targetRefs) warn(fieldAt(at, s, 'targetRefs'), 'targetRefs is not enforced (use selector)');
  (s.metrics ?? []).forEach((m, i) => {
    const mAt = child(fieldAt(at, s, 'metrics'), s.metrics!, i);
    (m.overrides ?? []).forEach((o, j) => {
      const oAt = child(fieldAt(mAt, m, 'overrides'), m.overrides!, j);
      if (o.match?.customMetric !== undefined)
        warn(fieldAt(fieldAt(oAt, o, 'match'), o.match, 'customMetric'), 'custom metrics are not supported');
      if (o.match?.metric !== undefined && UNSUPPORTED_METRICS.has(o.match.metric))
        warn(fieldAt(fieldAt(oAt, o, 'match'), o.match, 'metric'), `${o.match.metric} is not reported`);
      for (const [tag, to] of Object.entries(o.tagOverrides ?? {})) {
        if (
          (to.operation ?? 'UPSERT') === 'UPSERT' &&
          to.value !== undefined &&
          !CEL_STRING_LITERAL.test(to.value)
        )
          warn(
            fieldAt(fieldAt(fieldAt(oAt, o, 'tagOverrides'), o.tagOverrides!, tag), to, 'value'),
            `only quoted string literals (e.g. "'canary'") are evaluated as tag values, not ${to.value}`,
          );
      }
    });
  });
  (s.accessLogging ?? []).forEach((a, i) => {
    const aAt = child(fieldAt(at, s, 'accessLogging'), s.accessLogging!, i);
    if (a.filter && !RESPONSE_CODE_FILTER.test(a.filter.expression))
      warn(
        fieldAt(fieldAt(aAt, a, 'filter'), a.filter, 'expression'),
        'only response.code comparisons joined with && or || are evaluated (e.g. "response.code >= 400"); this filter',
      );
  });
  (s.tracing ?? []).forEach((t, i) => {
    const tAt = child(fieldAt(at, s, 'tracing'), s.tracing!, i);
    for (const [tag, ct] of Object.entries(t.customTags ?? {}))
      if (ct.formatter)
        warn(
          fieldAt(fieldAt(fieldAt(tAt, t, 'customTags'), t.customTags!, tag), ct, 'formatter'),
          'formatter custom tags are not evaluated (literal, environment and header are)',
        );
  });
}
