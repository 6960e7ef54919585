// Host names: resolving short names in a namespace, and matching hosts with wildcards.

/** The cluster's DNS suffix (Istio's default trust domain and domain suffix). */
export const DOMAIN_SUFFIX = 'cluster.local';

/**
 * Resolves a host as written in a resource of `namespace`: `reviews` → `reviews.<ns>.svc.cluster.local`,
 * `reviews.prod` → `reviews.prod.svc.cluster.local`, `reviews.prod.svc` → `...svc.cluster.local`;
 * anything with more dots, or a wildcard, is taken as written (lower-cased).
 */
export function resolveHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h === '*' || h.startsWith('*')) return h;
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.svc.${DOMAIN_SUFFIX}`;
  if (parts.length === 2) return `${h}.svc.${DOMAIN_SUFFIX}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.${DOMAIN_SUFFIX}`;
  return h;
}

/** True when `pattern` (possibly `*` or `*.suffix`) matches the concrete host `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** True when two host patterns (either may be a wildcard) can match a common host. */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** The Kubernetes service FQDN of `name` in `namespace`. */
export function kubeServiceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${DOMAIN_SUFFIX}`;
}
