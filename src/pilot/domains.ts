// The domains of a service's virtual host, as Istio writes them for sidecars.
import type { MeshService } from '../registry/model.js';
import { DOMAIN_SUFFIX } from '../registry/host.js';

/**
 * Every name a caller in `proxyNamespace` may use for the service: the FQDN, `name.ns.svc`, `name.ns`,
 * the short name (same namespace only) and virtual IPs, each bare and with `:port`. With
 * `portOnly`, bare names are left out except for port 80 (the http_proxy route config).
 */
export function serviceDomains(
  svc: MeshService,
  port: number,
  proxyNamespace: string,
  portOnly = false,
): string[] {
  const names = [svc.hostname];
  const kubeSuffix = `.${svc.namespace}.svc.${DOMAIN_SUFFIX}`;
  if (svc.hostname.endsWith(kubeSuffix)) {
    const short = svc.hostname.slice(0, -kubeSuffix.length);
    names.push(`${short}.${svc.namespace}.svc`, `${short}.${svc.namespace}`);
    if (svc.namespace === proxyNamespace) names.push(short);
  }
  for (const a of svc.addresses) if (!a.includes('/')) names.push(a);
  const out: string[] = [];
  for (const n of names) {
    if (!portOnly || port === 80) out.push(n);
    out.push(`${n}:${port}`);
  }
  return out;
}
