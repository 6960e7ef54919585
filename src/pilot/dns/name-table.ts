// The names Istio's DNS proxy answers: each Service's FQDN (and its `name.ns`, `name.ns.svc` forms)
// and each ServiceEntry host, with their virtual IPs — the configured ones, else addresses allocated
// as Kubernetes allocates ClusterIPs and Istio auto-allocates ServiceEntry addresses.
import { isIPv4 } from 'node:net';
import type { MeshService } from '../../registry/model.js';
import type { ServiceRegistry } from '../../registry/registry.js';
import { fnv1a } from '../../local/pod-ip.js';

/** Where Services without a clusterIP get one (Kubernetes' default service CIDR is 10.96.0.0/12). */
export const SERVICE_CIDR = '10.96.0.0/16';
/** Where ServiceEntries without addresses get one (Istio's DNS auto-allocation range). */
export const SERVICE_ENTRY_CIDR = '240.240.0.0/16';

/** Fully qualified name (lower case, no trailing dot) → IPv4 addresses. Immutable once built. */
export type NameTable = ReadonlyMap<string, readonly string[]>;

/** Builds the table from the registry; allocation is stable (hashed from the host name). */
export function buildNameTable(registry: Pick<ServiceRegistry, 'services' | 'endpoints'>): NameTable {
  const out = new Map<string, string[]>();
  const used = new Set<string>();
  const services = [...registry.services]
    .filter((s) => !s.hostname.startsWith('*'))
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  for (const s of services) for (const a of s.addresses) if (isIPv4(a)) used.add(a);
  for (const s of services) {
    let ips = s.addresses.filter((a) => isIPv4(a));
    if (ips.length === 0 && s.source === 'Service' && s.resolution === 'NONE') ips = headlessIps(registry, s);
    else if (ips.length === 0) {
      const ip = allocate(s.source === 'Service' ? SERVICE_CIDR : SERVICE_ENTRY_CIDR, s.hostname, used);
      used.add(ip);
      ips = [ip];
    }
    for (const name of namesOf(s)) if (!out.has(name)) out.set(name, ips);
  }
  return out;
}

/** The names a service answers to. */
function namesOf(s: MeshService): string[] {
  const host = s.hostname.toLowerCase();
  if (s.source !== 'Service') return [host];
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
  return m ? [host, `${m[1]}.${m[2]}.svc`, `${m[1]}.${m[2]}`] : [host];
}

/** A headless Service answers with its ready endpoints' IPs, as Kubernetes DNS does. */
function headlessIps(registry: Pick<ServiceRegistry, 'endpoints'>, s: MeshService): string[] {
  const ips = new Set<string>();
  for (const p of s.ports)
    for (const e of registry.endpoints(s, p.port)) if (e.healthy && isIPv4(e.address)) ips.add(e.address);
  return [...ips].sort();
}

function allocate(cidr: string, host: string, used: ReadonlySet<string>): string {
  const [base] = cidr.split('/');
  const [a, b] = base.split('.');
  // .0.0 and .255.255 are skipped (network / broadcast look-alikes); 65534 slots.
  for (let i = 0, s = fnv1a(host) % 65534; i < 65534; i++, s = (s + 1) % 65534) {
    const n = s + 1;
    const ip = `${a}.${b}.${n >> 8}.${n & 255}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no free address left in ${cidr}`);
}
