// Istio's host name rules: lower-case DNS-1123 names, a wildcard only in the first label, and host coverage.
import { isIP } from 'node:net';
import type { At, Checker } from '../../schema.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// "*", "*foo", "*-foo" or a plain label, as Istio's IsWildcardDNS1123Label.
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/** True for a lower-case DNS-1123 label of at most 63 characters (namespaces, subset and port names). */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function labelsError(domain: string, rest: string): string | null {
  const parts = rest.split('.');
  const tld = parts[parts.length - 1];
  if (/^[0-9]+$/.test(tld))
    return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    if (i === parts.length - 1 && parts[i] === '') return null; // trailing dot: "istio.io."
    if (!isDns1123Label(parts[i])) return `domain name "${domain}" invalid (label "${parts[i]}" invalid)`;
  }
  return null;
}

function preconditions(domain: string): string | null {
  if (domain.length === 0) return 'empty domain name not allowed';
  if (domain.length > 255) return `domain name "${domain.slice(0, 40)}..." too long (max 255)`;
  return null;
}

/** Why `s` is not a fully qualified (or short) lower-case DNS name, or null when it is one. */
export function fqdnError(s: string): string | null {
  return preconditions(s) ?? labelsError(s, s);
}

/** Why `s` is not a DNS name with an optional wildcard first label (`*`, `*.foo.com`), or null. */
export function wildcardDomainError(s: string): string | null {
  const pre = preconditions(s);
  if (pre) return pre;
  const dot = s.indexOf('.');
  const first = dot < 0 ? s : s.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first))
    return `domain name "${s}" invalid (label "${first}" invalid)`;
  return dot < 0 ? null : labelsError(s, s.slice(dot + 1));
}

/** Reports unless `s` is a valid wildcard domain; `what` names the field in the message. */
export function checkWildcardDomain(s: string, at: At, c: Checker): void {
  const e = wildcardDomainError(s);
  if (e) c.error(at, `${e}; expected a lower-case DNS name, optionally starting with "*."`);
}

/** Reports unless `s` is a lower-case DNS name without wildcard. */
export function checkFqdn(s: string, at: At, c: Checker): void {
  const e = fqdnError(s);
  if (e) c.error(at, `${e}; expected a lower-case DNS name without wildcard`);
}

/** Reports unless `s` is an IP address or a lower-case DNS name. */
export function checkFqdnOrIp(s: string, at: At, c: Checker): void {
  if (isIP(s)) return;
  if (fqdnError(s)) c.error(at, `must be a DNS name or an IP address, got ${JSON.stringify(s)}`);
}

/** Istio's "partial wildcard" (`*foo.com`, `foo.*.com`): anything with `*` other than `*` or a `*.` prefix. */
export function isPartialWildcard(s: string): boolean {
  return s.includes('*') && s !== '*' && !s.startsWith('*.');
}

const isWild = (h: string): boolean => h.startsWith('*');

/** True when every host matched by `a` is matched by `b` (Istio's host.Name.SubsetOf). */
export function hostSubsetOf(a: string, b: string): boolean {
  if (isWild(a)) return isWild(b) && a.slice(1).endsWith(b.slice(1));
  if (isWild(b)) return a.endsWith(b.slice(1));
  return a === b;
}

/** True when `a` and `b` match at least one common host (Istio's host.Name.Matches). */
export function hostsOverlap(a: string, b: string): boolean {
  if (isWild(a)) {
    if (isWild(b))
      return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    return b.endsWith(a.slice(1));
  }
  if (isWild(b)) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * Checks a `namespace/dnsName` host as Sidecar egress and Gateway servers use it. Gateways also accept
 * the old form without namespace and IP addresses. Short names are not allowed.
 */
export function checkNamespacedHostname(s: string, at: At, c: Checker, isGateway: boolean): void {
  const i = s.indexOf('/');
  if (i < 0) {
    if (isGateway) checkHostnamePart(s, at, c, true);
    else
      c.error(
        at,
        `host must be of form namespace/dnsName (e.g. "./*" or "istio-system/*"), got ${JSON.stringify(s)}`,
      );
    return;
  }
  const ns = s.slice(0, i);
  const host = s.slice(i + 1);
  if (ns === '' || host === '') {
    c.error(at, `namespace and dnsName in host ${JSON.stringify(s)} cannot be empty`);
    return;
  }
  const special = isGateway ? ['*', '.'] : ['*', '.', '~'];
  const excluded = ns.slice(1);
  if (!isGateway && ns.startsWith('~') && (excluded === '*' || excluded === '.' || isDns1123Label(excluded)))
    // Istio's newest Sidecar form "~ns/host" removes hosts from what the other entries import.
    c.error(
      at,
      `excluding hosts with "~${excluded}/..." is not supported by Mizzen; list only the namespaces and hosts to import`,
    );
  else if (!special.includes(ns) && !isDns1123Label(ns))
    c.error(
      at,
      `invalid namespace ${JSON.stringify(ns)}: expected ${special.map((x) => `"${x}"`).join(', ')} or a namespace name`,
    );
  checkHostnamePart(host, at, c, isGateway);
}

function checkHostnamePart(host: string, at: At, c: Checker, isGateway: boolean): void {
  if (host !== '*' && !host.includes('.') && !(isGateway && isIP(host))) {
    c.error(
      at,
      `short names (non FQDN) are not allowed here, got ${JSON.stringify(host)}; use e.g. "${host}.default.svc.cluster.local"`,
    );
    return;
  }
  if (isGateway && isIP(host)) return;
  if (isPartialWildcard(host)) {
    c.error(at, `partial wildcard ${JSON.stringify(host)} not allowed; use "*" or a "*." prefix`);
    return;
  }
  const e = wildcardDomainError(host);
  if (e) c.error(at, e);
}
