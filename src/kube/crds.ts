// CustomResourceDefinitions for every Istio kind the config API knows, generated from its kind registry.
import { kindByName, knownKinds } from '../api/kinds/registry.js';
import '../api/kinds/index.js';
import { pluralOf, resolveKind } from '../local/kind-names.js';

/** The API group of an apiVersion (`networking.istio.io/v1` → `networking.istio.io`), '' for core. */
function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

/** kubectl short names: the kind's initials when they resolve back to it (VirtualService → vs). */
function shortNames(kind: string): string[] {
  const initials = kind.replace(/[^A-Z]/g, '').toLowerCase();
  return initials.length > 1 && resolveKind(initials) === kind ? [initials] : [];
}

/**
 * One CRD per Istio kind (groups ending in `istio.io`), with every apiVersion the config API accepts
 * served and the newest stored. The schema keeps unknown fields: the fields are checked by the
 * validating webhook (the config API's own checks, with field paths), not by an OpenAPI schema,
 * because the config API's schema is code (validators) rather than data.
 */
export function istioCrds(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const kind of knownKinds().sort()) {
    const def = kindByName(kind)!;
    const group = groupOf(def.apiVersions[0]);
    if (!group.endsWith('istio.io')) continue;
    const versions = def.apiVersions.map((v) => v.split('/')[1]);
    const newest = versions[versions.length - 1];
    const plural = pluralOf(kind);
    out.push({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: `${plural}.${group}`,
        labels: { app: 'mizzen', 'app.kubernetes.io/part-of': 'mizzen' },
      },
      spec: {
        group,
        names: {
          kind,
          listKind: `${kind}List`,
          plural,
          singular: kind.toLowerCase(),
          categories: ['istio-io', `${group.split('.')[0]}-istio-io`],
          ...(shortNames(kind).length ? { shortNames: shortNames(kind) } : {}),
        },
        scope: def.namespaced ? 'Namespaced' : 'Cluster',
        versions: versions.map((name) => ({
          name,
          served: true,
          storage: name === newest,
          ...(def.deprecatedApiVersions?.[`${group}/${name}`]
            ? {
                deprecated: true,
                deprecationWarning: `${group}/${name} ${kind} is deprecated; use ${def.deprecatedApiVersions[`${group}/${name}`]}`,
              }
            : {}),
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${kind}: fields are validated by Mizzen's validating webhook (mizzen validate rules).`,
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        })),
      },
    });
  }
  return out;
}
