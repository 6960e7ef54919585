// Builders for KindDefs: Istio kinds (spec + status) and Kubernetes kinds (arbitrary top-level fields).
import { anyValue, obj, type Fields, type Validator, type ObjectOptions } from './schema.js';
import type { KindDef } from './resource.js';
import { withDryRunCheck } from './kinds/security/dry-run.js';
import { withReservedAnnotationCheck } from './reserved-annotations.js';

const envelope: Fields = { apiVersion: anyValue(), kind: anyValue(), metadata: anyValue() };

/** The versions each Istio API group serves. */
export const ISTIO_VERSIONS = {
  networking: ['networking.istio.io/v1alpha3', 'networking.istio.io/v1beta1', 'networking.istio.io/v1'],
  security: ['security.istio.io/v1beta1', 'security.istio.io/v1'],
  telemetry: ['telemetry.istio.io/v1alpha1', 'telemetry.istio.io/v1'],
} as const;

/**
 * An Istio custom resource: `spec` checked by `spec` (missing spec = `{}`), `status` kept as is; the
 * `istio.io/dry-run` annotation is refused on every kind but AuthorizationPolicy, and annotations
 * reserved to Istio's control plane on every kind (Istio's metadata validation).
 */
export function istioKind(kind: string, apiVersions: readonly string[], spec: Validator<unknown>): KindDef {
  const def = withReservedAnnotationCheck(istioKindBody(kind, apiVersions, spec));
  // Istio's metadata check: only AuthorizationPolicy (which checks the value itself) takes istio.io/dry-run.
  if (kind === 'AuthorizationPolicy') return def;
  return withDryRunCheck(
    def,
    () => 'the istio.io/dry-run annotation is only supported on AuthorizationPolicy; remove it',
  );
}

function istioKindBody(kind: string, apiVersions: readonly string[], spec: Validator<unknown>): KindDef {
  const body = obj<Record<string, unknown>>({ ...envelope, spec, status: anyValue() });
  return {
    kind,
    apiVersions,
    namespaced: true,
    body: (v, at, c) => {
      const out = body(v, at, c);
      if (out && out.spec === undefined && v && typeof v === 'object') {
        // Check an absent spec as an empty one so its required fields are reported.
        const s = spec({}, { path: 'spec', holder: v, key: 'spec' }, c);
        if (s !== undefined) out.spec = s;
      }
      return out;
    },
  };
}

/** A Kubernetes kind: its top-level fields besides apiVersion/kind/metadata. */
export function kubeKind(
  kind: string,
  apiVersions: readonly string[],
  fields: Fields,
  opts: { namespaced?: boolean; deprecatedApiVersions?: Record<string, string> } & ObjectOptions<
    Record<string, unknown>
  > = {},
): KindDef {
  return {
    kind,
    apiVersions,
    namespaced: opts.namespaced ?? true,
    ...(opts.deprecatedApiVersions ? { deprecatedApiVersions: opts.deprecatedApiVersions } : {}),
    body: obj<Record<string, unknown>>({ ...envelope, ...fields }, opts.rules ? { rules: opts.rules } : {}),
  };
}
