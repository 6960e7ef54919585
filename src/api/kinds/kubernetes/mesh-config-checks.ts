// MeshConfig rules from Istio's mesh validation: connect timeout range, trust domain names, extension providers.
import { isIP } from 'node:net';
import { child, isPlainObject, type At, type Checker } from '../../schema.js';
import { isDns1123Label } from '../../checks.js';

/** Istio's trust domain form: DNS-1123 labels joined by dots, a trailing dot allowed. */
export function isTrustDomain(d: string): boolean {
  const parts = d.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return d.length > 0 && parts.every(isDns1123Label);
}

function checkTrustDomains(doc: Record<string, unknown>, at: At, c: Checker): void {
  const td = doc.trustDomain;
  if (typeof td === 'string' && !isTrustDomain(td))
    c.error(
      child(at, doc, 'trustDomain'),
      `trust domain ${JSON.stringify(td)} is not a DNS name (lower-case labels)`,
    );
  const aliases = doc.trustDomainAliases;
  if (Array.isArray(aliases))
    aliases.forEach((a, i) => {
      if (typeof a === 'string' && !isTrustDomain(a))
        c.error(
          child(child(at, doc, 'trustDomainAliases'), aliases, i),
          `trust domain ${JSON.stringify(a)} is not a DNS name`,
        );
    });
}

/** A provider's `service`: a host name, an IP, or `namespace/host` (Istio's form). */
function serviceError(s: unknown): string | null {
  if (typeof s !== 'string' || s === '') return 'service must be set';
  const host = s.includes('/') ? s.slice(s.indexOf('/') + 1) : s;
  const ns = s.includes('/') ? s.slice(0, s.indexOf('/')) : null;
  if (ns !== null && ns !== '*' && ns !== '.' && !isDns1123Label(ns))
    return `invalid namespace ${JSON.stringify(ns)} in service ${JSON.stringify(s)}`;
  if (isIP(host) || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/.test(host))
    return null;
  return `service ${JSON.stringify(s)} is not a host name, an IP address or namespace/host`;
}

// Provider kinds whose settings name a `service` and `port`.
const SERVICE_PROVIDERS = [
  'envoyExtAuthzHttp',
  'envoyExtAuthzGrpc',
  'zipkin',
  'opentelemetry',
  'datadog',
  'skywalking',
  'lightstep',
  'opencensus',
  'envoyOtelAls',
  'envoyHttpAls',
  'envoyTcpAls',
];

function checkProvider(p: Record<string, unknown>, pAt: At, c: Checker): void {
  for (const kind of SERVICE_PROVIDERS) {
    const cfg = p[kind];
    if (!isPlainObject(cfg)) continue;
    const cAt = child(pAt, p, kind);
    const se = serviceError(cfg.service);
    if (se) c.warn(child(cAt, cfg, 'service'), se);
    const port = cfg.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      c.warn(child(cAt, cfg, 'port'), `port must be between 1 and 65535, got ${JSON.stringify(port)}`);
    const prefix = cfg.pathPrefix;
    if (
      kind === 'envoyExtAuthzHttp' &&
      typeof prefix === 'string' &&
      prefix !== '' &&
      !prefix.startsWith('/')
    )
      c.warn(child(cAt, cfg, 'pathPrefix'), `pathPrefix must begin with "/", got ${JSON.stringify(prefix)}`);
  }
}

/**
 * Extension providers: names set and unique, services and ports well formed. Istio only logs these
 * (a provider nobody uses may be broken), so they are warnings here too.
 */
function checkExtensionProviders(doc: Record<string, unknown>, at: At, c: Checker): void {
  const list = doc.extensionProviders;
  if (!Array.isArray(list)) return;
  const listAt = child(at, doc, 'extensionProviders');
  const names = new Set<string>();
  list.forEach((p, i) => {
    if (!isPlainObject(p)) return;
    const pAt = child(listAt, list, i);
    const name = p.name;
    if (typeof name !== 'string' || name === '') c.warn(pAt, 'extension provider name must be set');
    else if (names.has(name)) c.warn(child(pAt, p, 'name'), `duplicate extension provider name ${name}`);
    else names.add(name);
    checkProvider(p, pAt, c);
  });
}

/** Runs Istio's MeshConfig checks on the parsed mesh document. */
export function meshConfigRules(doc: Record<string, unknown>, at: At, c: Checker): void {
  checkTrustDomains(doc, at, c);
  checkExtensionProviders(doc, at, c);
}
