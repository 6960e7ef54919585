// kubectl's names for kinds: `vs`, `virtualservices`, `virtualservice.networking.istio.io` → VirtualService.
import { kindByName, knownKinds } from '../api/kinds/registry.js';
import '../api/kinds/index.js';

/** kubectl short names (Kubernetes' and Istio's CRDs'). */
const SHORT: Readonly<Record<string, string>> = {
  vs: 'VirtualService',
  dr: 'DestinationRule',
  gw: 'Gateway',
  se: 'ServiceEntry',
  we: 'WorkloadEntry',
  wg: 'WorkloadGroup',
  pa: 'PeerAuthentication',
  ra: 'RequestAuthentication',
  ap: 'AuthorizationPolicy',
  svc: 'Service',
  po: 'Pod',
  deploy: 'Deployment',
  sa: 'ServiceAccount',
  cm: 'ConfigMap',
  ns: 'Namespace',
  ep: 'Endpoints',
};

/** The plural kubectl prints: VirtualService → virtualservices, AuthorizationPolicy → authorizationpolicies. */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k === 'endpoints') return k;
  if (k.endsWith('y') && !/[aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

/** The kind a user means, or undefined. Accepts kind, plural, short name, any case, with or without `.group`. */
export function resolveKind(name: string): string | undefined {
  const n = name.toLowerCase().split('.')[0];
  if (SHORT[n]) return SHORT[n];
  for (const k of knownKinds()) if (k.toLowerCase() === n || pluralOf(k) === n) return k;
  return undefined;
}

/** `virtualservice.networking.istio.io` / `service` as kubectl names a resource type in its output. */
export function qualifiedKind(kind: string, apiVersion: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

/** True for kinds that live in a namespace (unknown kinds count as namespaced). */
export function isNamespaced(kind: string): boolean {
  return kindByName(kind)?.namespaced ?? true;
}

/** `virtualservice.networking.istio.io` for a kind name, from its newest apiVersion. */
export function qualifiedKindOf(kind: string): string {
  const v = kindByName(kind)?.apiVersions;
  return qualifiedKind(kind, v?.[v.length - 1] ?? 'v1');
}
