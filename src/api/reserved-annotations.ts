// Annotations reserved to Istio's control plane: a user-written Istio resource carrying one is refused.
import { child, isPlainObject, rootAt } from './schema.js';
import type { KindDef } from './resource.js';

/** Each reserved annotation and why Istio refuses it on user config. */
export const RESERVED_ANNOTATIONS: Readonly<Record<string, string>> = {
  // istiod's webhook self-test marker: any resource carrying it is refused, by design.
  'internal.istio.io/webhook-always-reject':
    'is a test marker that makes Istio refuse the resource; remove it',
  // Set by istiod on resources it derives from Gateway API objects; they widen what a route may bind to.
  'internal.istio.io/parents': 'is set only by Istio itself (it grants privileges); remove it',
  'internal.istio.io/parent-namespace': 'is set only by Istio itself (it grants privileges); remove it',
};

/** Wraps an Istio kind so that a reserved annotation in its metadata is an error. */
export function withReservedAnnotationCheck(def: KindDef): KindDef {
  return {
    ...def,
    body: (v, at, c) => {
      const out = def.body(v, at, c);
      if (!isPlainObject(v) || !isPlainObject(v.metadata)) return out;
      const meta = v.metadata;
      const ann = meta.annotations;
      if (!isPlainObject(ann)) return out;
      const annAt = child(child(rootAt(v), v, 'metadata'), meta, 'annotations');
      for (const [key, why] of Object.entries(RESERVED_ANNOTATIONS))
        if (key in ann)
          c.report('error', child(annAt, ann, key), `annotation ${key} ${why}`, undefined, true);
      return out;
    },
  };
}
