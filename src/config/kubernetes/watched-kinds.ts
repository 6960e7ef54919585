// The API resources `mizzen server --kubernetes` watches: every Istio kind of the config API plus the core kinds a mesh reads.
import { kindByName, knownKinds } from '../../api/kinds/registry.js';
import '../../api/kinds/index.js';
import { pluralOf } from '../../local/kind-names.js';

/** One watched API resource (one informer). */
export interface WatchedKind {
  /** The config API's kind, e.g. `VirtualService`. */
  readonly kind: string;
  /** The version listed and watched, e.g. `networking.istio.io/v1` (core: `v1`). */
  readonly apiVersion: string;
  /** The resource's plural, e.g. `virtualservices`. */
  readonly plural: string;
  /** Istio resources get their validation written back to `status`. */
  readonly istio: boolean;
  /** The collection path listed and watched, e.g. `/apis/networking.istio.io/v1/virtualservices`. */
  readonly path: string;
  /** Restricts the collection (the `istio` ConfigMap only), e.g. `metadata.name=istio`. */
  readonly fieldSelector?: string;
}

/** `/api/v1` for core, `/apis/<group>/<version>` otherwise. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function watched(kind: string, apiVersion: string, namespace?: string, fieldSelector?: string): WatchedKind {
  const plural = pluralOf(kind);
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return {
    kind,
    apiVersion,
    plural,
    istio: apiVersion.split('/')[0].endsWith('istio.io'),
    path: `${groupVersionPath(apiVersion)}${ns}/${plural}`,
    ...(fieldSelector ? { fieldSelector } : {}),
  };
}

/**
 * What istiod watches, in the versions Mizzen reads: every Istio kind the config API knows at its newest
 * version (the one `mizzen install`'s CRDs store), Services, EndpointSlices, Pods, Namespaces,
 * ServiceAccounts, Secrets (gateway credentialName, cacerts) and the ConfigMap `istio` in istio-system
 * (MeshConfig). Endpoints (v1) are not watched: EndpointSlices replace them, as in istiod.
 */
export function watchedKinds(): WatchedKind[] {
  const out: WatchedKind[] = [];
  for (const kind of knownKinds()) {
    const def = kindByName(kind)!;
    const newest = def.apiVersions[def.apiVersions.length - 1];
    if (newest.split('/')[0].endsWith('istio.io')) out.push(watched(kind, newest));
  }
  out.push(
    watched('Service', 'v1'),
    watched('EndpointSlice', 'discovery.k8s.io/v1'),
    watched('Pod', 'v1'),
    watched('Namespace', 'v1'),
    watched('ServiceAccount', 'v1'),
    watched('Secret', 'v1'),
    watched('ConfigMap', 'v1', 'istio-system', 'metadata.name=istio'),
  );
  return out;
}
