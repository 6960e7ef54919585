// The `istio.io/dry-run` annotation: only ALLOW and DENY AuthorizationPolicies accept it.
import { child, isPlainObject, rootAt, type Checker } from '../../schema.js';
import type { KindDef } from '../../resource.js';

/** The annotation that makes an AuthorizationPolicy log its decision instead of enforcing it. */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Wraps a kind so its `istio.io/dry-run` annotation is checked: `allowedFor(body)` says whether the
 * resource may carry it (undefined message = allowed), as Istio's metadata validation does.
 */
export function withDryRunCheck(
  def: KindDef,
  allowedFor: (body: Record<string, unknown>) => string | undefined,
): KindDef {
  return {
    ...def,
    body: (v, at, c) => {
      const out = def.body(v, at, c);
      if (out && isPlainObject(v)) checkAnnotation(v, out, allowedFor, c);
      return out;
    },
  };
}

function checkAnnotation(
  doc: Record<string, unknown>,
  body: Record<string, unknown>,
  allowedFor: (body: Record<string, unknown>) => string | undefined,
  c: Checker,
): void {
  const meta = doc.metadata;
  if (!isPlainObject(meta) || !isPlainObject(meta.annotations)) return;
  const ann = meta.annotations;
  if (!(DRY_RUN_ANNOTATION in ann)) return;
  const at = child(child(child(rootAt(doc), doc, 'metadata'), meta, 'annotations'), ann, DRY_RUN_ANNOTATION);
  const refusal = allowedFor(body);
  if (refusal) {
    c.error(at, refusal);
    return;
  }
  const val = ann[DRY_RUN_ANNOTATION];
  if (typeof val !== 'string' || !GO_BOOLS.has(val))
    c.error(at, `must be "true" or "false", got ${JSON.stringify(val)}`);
}
