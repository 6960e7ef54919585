// The `status` Mizzen writes on Istio resources: Istio's IstioStatus shape (validationMessages, observedGeneration) plus a condition with the message.
import { isDeepStrictEqual } from 'node:util';
import type { Diagnostic } from '../../api/diagnostic.js';

/** One of Istio's AnalysisMessageBase entries. */
export interface ValidationMessage {
  readonly level: 'ERROR' | 'WARNING' | 'INFO';
  readonly type: { readonly code: string; readonly name?: string };
}

/** One IstioCondition. */
export interface IstioCondition {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** The fields of `status` Mizzen owns (a merge patch leaves any other field alone). */
export interface IstioStatus {
  readonly conditions: IstioCondition[];
  readonly validationMessages: ValidationMessage[];
  readonly observedGeneration?: number;
}

/** istioctl analyze's code for a resource that fails schema validation. */
const SCHEMA_VALIDATION_ERROR = { code: 'IST0106', name: 'SchemaValidationError' } as const;

function levelOf(d: Diagnostic): ValidationMessage['level'] {
  return d.severity === 'error' ? 'ERROR' : d.severity === 'warning' ? 'WARNING' : 'INFO';
}

/**
 * The status of one resource from its diagnostics. Every diagnostic is a validation message (errors
 * without an Istio code as IST0106 SchemaValidationError, others under their own code); the condition
 * `Accepted` says whether the control plane serves this generation and carries the messages with their
 * field paths, which Istio's AnalysisMessageBase has no field for.
 */
export function istioStatusOf(
  diagnostics: readonly Diagnostic[],
  rejected: boolean,
  generation: number | undefined,
): IstioStatus {
  const shown = diagnostics.filter((d) => d.severity !== 'info');
  const validationMessages = shown.map((d): ValidationMessage => ({
    level: levelOf(d),
    type:
      d.severity === 'error' && !d.code?.startsWith('IST')
        ? SCHEMA_VALIDATION_ERROR
        : { code: d.code ?? 'MZ-WARNING' },
  }));
  const text = shown.map((d) => `${d.path ? `${d.path}: ` : ''}${d.message}`).join('; ');
  const condition: IstioCondition = rejected
    ? {
        type: 'Accepted',
        status: 'False',
        reason: 'Invalid',
        message: `rejected, the previous version (if any) keeps serving: ${text}`,
      }
    : {
        type: 'Accepted',
        status: 'True',
        reason: shown.length > 0 ? 'AcceptedWithWarnings' : 'Accepted',
        message: text || 'served by the control plane',
      };
  return {
    conditions: [condition],
    validationMessages,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** True when `current` (the object's status) already holds `wanted`. */
export function statusHolds(current: unknown, wanted: IstioStatus): boolean {
  if (!current || typeof current !== 'object') return false;
  const c = current as Record<string, unknown>;
  return (
    isDeepStrictEqual(c.conditions ?? [], wanted.conditions) &&
    isDeepStrictEqual(c.validationMessages ?? [], wanted.validationMessages) &&
    c.observedGeneration === wanted.observedGeneration
  );
}
