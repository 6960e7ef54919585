// VirtualService rules that need the whole resource: hosts vs gateways, delegation, SNI coverage, unreachable rules.
import { isIP } from 'node:net';
import { child, type At, type Checker } from '../../schema.js';
import { checkGatewayNames } from './common.js';
import { hostSubsetOf, hostsOverlap, wildcardDomainError } from './hosts.js';
import { warnCoveredPrefixMatches } from './http-match-overlap.js';
import { JWT_CLAIM_PREFIX } from './http-route.js';
import type { HTTPMatchRequest, VirtualServiceSpec } from './virtual-service.js';

/** The reserved gateway name meaning "all sidecars". */
export const MESH_GATEWAY = 'mesh';

/** True when the VirtualService applies to gateways only (gateways listed, `mesh` not among them). */
export function appliesToGatewayOnly(s: VirtualServiceSpec): boolean {
  return !!s.gateways?.length && !s.gateways.includes(MESH_GATEWAY);
}

/** Runs every whole-resource rule. */
export function virtualServiceRules(s: VirtualServiceSpec, at: At, c: Checker): void {
  const f = (k: keyof VirtualServiceSpec): At => child(at, s, k);
  const gatewayOnly = appliesToGatewayOnly(s);
  if (s.gateways) checkGatewayNames(s.gateways, f('gateways'), c);
  if (!s.hosts?.length) delegateRules(s, at, c);
  if (!gatewayOnly) jwtClaimRules(s, at, c);
  const hostsOk = checkHosts(s, at, c, gatewayOnly);
  if (hostsOk) duplicateHosts(s, at, c);
  if (!s.http?.length && !s.tcp?.length && !s.tls?.length)
    c.error(at, 'one of http, tcp or tls must be provided');
  sniRules(s, at, c, gatewayOnly);
  unreachableRules(s, at, c);
}

/** A VirtualService without hosts is a delegate: HTTP only, no gateways, no further delegation. */
function delegateRules(s: VirtualServiceSpec, at: At, c: Checker): void {
  if (s.gateways?.length)
    c.error(child(at, s, 'gateways'), 'a delegate VirtualService (one without hosts) must not list gateways');
  if (s.tls?.length)
    c.error(child(at, s, 'tls'), 'a delegate VirtualService (one without hosts) must not have tls rules');
  if (s.tcp?.length)
    c.error(child(at, s, 'tcp'), 'a delegate VirtualService (one without hosts) must not have tcp rules');
  s.http?.forEach((r, i) => {
    if (r.delegate)
      c.error(child(child(at, s, 'http'), s.http!, i), 'a delegate VirtualService cannot delegate further');
  });
}

/** JWT claim routing (`@request.auth.claims.*` header keys) works on gateways only. */
function jwtClaimRules(s: VirtualServiceSpec, at: At, c: Checker): void {
  s.http?.forEach((r, i) =>
    r.match?.forEach((m, j) => {
      for (const k of ['headers', 'withoutHeaders'] as const) {
        const h = m[k];
        if (!h) continue;
        for (const name of Object.keys(h)) {
          if (!name.startsWith(JWT_CLAIM_PREFIX)) continue;
          const mAt = child(child(child(child(at, s, 'http'), s.http!, i), r, 'match'), r.match!, j);
          c.error(
            child(child(mAt, m, k), h, name),
            'JWT claim based routing is only supported on gateways (list gateways without "mesh")',
          );
        }
      }
    }),
  );
}

function checkHosts(s: VirtualServiceSpec, at: At, c: Checker, gatewayOnly: boolean): boolean {
  let ok = true;
  const hasSni = s.tls?.some((t) => t.match?.some((m) => m.sniHosts?.length)) ?? false;
  s.hosts?.forEach((h, i) => {
    const a = child(child(at, s, 'hosts'), s.hosts!, i);
    if (isIP(h)) return;
    const err = gatewayOnly && hasSni && /^outbound_\.[0-8]/.test(h) ? null : wildcardDomainError(h);
    if (err) {
      c.error(a, `${err}; hosts are service names ("reviews"), FQDNs or "*."-wildcards`);
      ok = false;
    } else if (!gatewayOnly && h === '*') {
      c.error(
        a,
        'wildcard host "*" is not allowed for VirtualServices bound to the mesh; name the hosts or bind it to gateways only',
      );
      ok = false;
    }
  });
  return ok;
}

function duplicateHosts(s: VirtualServiceSpec, at: At, c: Checker): void {
  const hosts = s.hosts ?? [];
  for (let i = 0; i < hosts.length; i++)
    for (let j = i + 1; j < hosts.length; j++)
      if (hostsOverlap(hosts[i], hosts[j]))
        c.error(
          child(child(at, s, 'hosts'), hosts, j),
          `duplicate hosts in VirtualService: ${hosts[i]} and ${hosts[j]} overlap`,
        );
}

/** TLS sniHosts must be valid and covered by one of the VirtualService hosts. */
function sniRules(s: VirtualServiceSpec, at: At, c: Checker, gatewayOnly: boolean): void {
  s.tls?.forEach((r, i) => {
    const rAt = child(child(at, s, 'tls'), s.tls!, i);
    r.match?.forEach((m, j) => {
      const mAt = child(child(rAt, r, 'match'), r.match, j);
      m.sniHosts?.forEach((sni, k) => {
        const a = child(child(mAt, m, 'sniHosts'), m.sniHosts, k);
        if (isIP(sni)) {
          c.warn(
            a,
            `using an IP address (${sni}) as SNI goes against the SNI spec and most clients do not support it`,
          );
          return;
        }
        const err = gatewayOnly && /^outbound_\.[0-8]/.test(sni) ? null : wildcardDomainError(sni);
        if (err) c.error(a, err);
        else if (!(s.hosts ?? []).some((h) => hostSubsetOf(sni, h)))
          c.error(
            a,
            `SNI host ${JSON.stringify(sni)} is not covered by any of the VirtualService hosts [${(s.hosts ?? []).join(', ')}]`,
          );
      });
    });
  });
}

/** JSON with sorted keys, so that equal matches written in different orders compare equal. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

function matchKey(m: object): string {
  const { name, ...rest } = m as HTTPMatchRequest;
  void name;
  return stableJson(rest);
}

/** Warns about rules no request can reach: after a catch-all rule, or whose matches all repeat earlier ones. */
function unreachableRules(s: VirtualServiceSpec, at: At, c: Checker): void {
  for (const kind of ['http', 'tls', 'tcp'] as const) {
    const rules: readonly { name?: string; match?: object[] }[] | undefined = s[kind];
    if (!rules) continue;
    const listAt = child(at, s, kind);
    const seen = new Map<string, number>();
    let catchAll = -1;
    rules.forEach((r, i) => {
      const a = child(listAt, rules, i);
      const label = r.name ? `"${r.name}"` : `#${i}`;
      if (catchAll >= 0) {
        c.warn(
          a,
          `${kind} rule ${label} is never used: rule #${catchAll} before it has no match and takes every request`,
          'IST0130',
        );
        return;
      }
      if (!r.match?.length) {
        catchAll = i;
        return;
      }
      let dups = 0;
      r.match.forEach((m, j) => {
        const key = matchKey(m);
        const prev = seen.get(key);
        if (prev !== undefined) {
          dups++;
          c.warn(
            child(child(a, r, 'match'), r.match!, j),
            `match #${j} of ${kind} rule ${label} is never used (same match in rule #${prev})`,
            'IST0131',
          );
        } else seen.set(key, i);
      });
      if (dups === r.match.length)
        c.warn(a, `${kind} rule ${label} is never used: all its matches are used by prior rules`, 'IST0130');
    });
  }
  if (s.http)
    warnCoveredPrefixMatches(s.http, child(at, s, 'http'), c, (a, b) => matchKey(a) === matchKey(b));
}
