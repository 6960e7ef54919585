// Host names as Istio reads them: short names resolved in the referring resource's namespace, wildcards.
import { isIP } from 'node:net';

/** The cluster DNS suffix of Kubernetes services. */
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * Istio's short-name resolution: a name without a dot becomes `<name>.<namespace>.svc.cluster.local`;
 * names with a dot, IPs and `*` are taken as written (so `reviews.prod` is NOT expanded, as in Istio).
 */
export function toFqdn(host: string, namespace: string): string {
  if (host === '' || host === '*' || isIP(host) !== 0 || host.includes('.')) return host.toLowerCase();
  return `${host.toLowerCase()}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** True when `host` is a wildcard pattern (`*`, `*.example.com`, `*example.com`). */
export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}

/** True when the concrete or wildcard `host` falls under the wildcard or concrete `pattern`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (!isWildcard(pattern)) return false;
  const suffix = pattern.slice(1); // ".example.com" or "example.com"
  if (isWildcard(host)) return host.slice(1).endsWith(suffix);
  return host.endsWith(suffix) && host.length > suffix.length;
}

/** True when two hosts (either may be a wildcard) can name the same request host. */
export function hostsIntersect(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/**
 * For a dotted name that looks like `name.namespace` (a common mistake: Istio does not expand it),
 * the FQDN the author probably meant.
 */
export function likelyMeant(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc')) {
    return `${parts[0]}.${parts[1]}.svc.${CLUSTER_DOMAIN}`;
  }
  return undefined;
}

/**
 * True when a resource in namespace `owner` with `exportTo` is visible from namespace `from`
 * (absent or `*` = everywhere, `.` = its own namespace, a name = that namespace).
 */
export function visibleFrom(owner: string, exportTo: readonly string[] | undefined, from: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? owner === from : e === from));
}
