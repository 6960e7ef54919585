// Namespace (v1, cluster-scoped): its labels (istio-injection, istio.io/rev) steer the mesh.
import { obj, list, str, anyValue, enumOf, isPlainObject, child, type Validator } from '../../schema.js';
import { isDns1123Label } from '../../checks.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';

/** Namespace.spec. */
export interface NamespaceSpec {
  finalizers?: string[];
}

/** Namespace.status. */
export interface NamespaceStatus {
  phase?: 'Active' | 'Terminating';
  [field: string]: unknown;
}

/** A Namespace resource. */
export interface Namespace extends Resource {
  kind: 'Namespace';
  spec?: NamespaceSpec;
  status?: NamespaceStatus;
}

const INJECTION_VALUES = ['enabled', 'disabled'];

const status = (): Validator<NamespaceStatus> =>
  obj<NamespaceStatus>(
    { phase: enumOf(['Active', 'Terminating'] as const), conditions: list(anyValue()) },
    { allowUnknown: true },
  );

/** The Namespace kind: name must be a DNS-1123 label; istio-injection must be enabled/disabled. */
export const namespaceKind = kubeKind(
  'Namespace',
  ['v1'],
  { spec: obj<NamespaceSpec>({ finalizers: list(str()) }), status: status() },
  {
    namespaced: false,
    rules: (out, at, c) => {
      const meta = out.metadata;
      if (!isPlainObject(meta)) return;
      const mAt = child(at, out, 'metadata');
      if (typeof meta.name === 'string' && !isDns1123Label(meta.name))
        c.error(
          child(mAt, meta, 'name'),
          `a namespace name must be a DNS-1123 label (at most 63 lower-case letters, digits and "-"), got ${JSON.stringify(meta.name)}`,
        );
      const l = meta.labels;
      if (isPlainObject(l) && typeof l['istio-injection'] === 'string') {
        const v = l['istio-injection'];
        if (!INJECTION_VALUES.includes(v))
          c.warn(
            child(child(mAt, meta, 'labels'), l, 'istio-injection'),
            `istio-injection is only acted on when "enabled" or "disabled", got ${JSON.stringify(v)}`,
          );
      }
    },
  },
);
