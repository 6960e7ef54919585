// ServiceEntry (networking.istio.io): adds services (external APIs, VMs) to the mesh's service registry.
import {
  obj,
  str,
  nonEmpty,
  int,
  enumOf,
  list,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkCidr, checkPort } from '../../checks.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkExportTo,
  checkPortName,
  checkProtocol,
  checkSelectorLabels,
  isHttpProtocol,
  isTlsProtocol,
  namespaceOf,
} from './common.js';
import { checkWildcardDomain, fqdnError, isPartialWildcard } from './hosts.js';
import { checkEndpoint, workloadEntrySpec, type WorkloadEntrySpec } from './workload-entry.js';
import { workloadSelector, type WorkloadSelector } from './workload-selector.js';

/** ServiceEntry.spec. */
export interface ServiceEntrySpec {
  /** Host names of the service (required): DNS names, `*.` wildcards allowed (not with DNS resolution). */
  hosts: string[];
  /** Virtual IPs / CIDR blocks of the service (for TCP services without a unique host). */
  addresses?: string[];
  /** Ports of the service (numbers and names unique). */
  ports?: ServicePort[];
  /** Inside or outside the mesh (decides mTLS and telemetry); default MESH_EXTERNAL. */
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /** How endpoints are found; default NONE. */
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  /** Explicit endpoints (excludes workloadSelector). */
  endpoints?: WorkloadEntrySpec[];
  /** Select Pods / WorkloadEntries as endpoints (MESH_INTERNAL; excludes endpoints). */
  workloadSelector?: WorkloadSelector;
  /** Namespaces this ServiceEntry is visible to: `.`, `*` or namespace names; absent = all. */
  exportTo?: string[];
  /** Acceptable server identities (SANs) for mTLS to the service's endpoints. */
  subjectAltNames?: string[];
}

/** A ServiceEntry resource. */
export type ServiceEntry = SpecResource<'ServiceEntry', ServiceEntrySpec>;

/** A port of a ServiceEntry. */
export interface ServicePort {
  /** Port number (1–65535) (required, unique within the entry). */
  number: number;
  /** Protocol: HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS, ...; absent = sniffed. */
  protocol?: string;
  /** Port name (required, unique within the entry). */
  name: string;
  /** Port on the endpoints; default `number` (endpoint `ports` override it). */
  targetPort?: number;
}

// ---------- schema ----------

const servicePort = (): Validator<ServicePort> =>
  obj<ServicePort>({
    number: { v: int(0, 4294967295, checkPort), required: true },
    protocol: str(checkProtocol),
    name: { v: str(checkPortName), required: true },
    targetPort: int(0, 4294967295, checkPort),
  });

function portRules(s: ServiceEntrySpec, at: At, c: Checker): Set<string> {
  const names = new Set<string>();
  const numbers = new Set<number>();
  s.ports?.forEach((p, i) => {
    const pAt = child(child(at, s, 'ports'), s.ports!, i);
    if (names.has(p.name))
      c.error(child(pAt, p, 'name'), `port name ${JSON.stringify(p.name)} is already defined`);
    if (numbers.has(p.number)) c.error(child(pAt, p, 'number'), `port ${p.number} is already defined`);
    names.add(p.name);
    numbers.add(p.number);
    if (p.targetPort && (s.resolution ?? 'NONE') === 'NONE')
      c.warn(child(pAt, p, 'targetPort'), 'targetPort has no effect when resolution is NONE');
  });
  return names;
}

function hostRules(s: ServiceEntrySpec, at: At, c: Checker): void {
  s.hosts.forEach((h, i) => {
    const a = child(child(at, s, 'hosts'), s.hosts, i);
    if (h === '*')
      c.error(
        a,
        'the host "*" is not allowed in a ServiceEntry; name the hosts (wildcards like "*.example.com" are allowed)',
      );
    else {
      checkWildcardDomain(h, a, c);
      if (isPartialWildcard(h))
        c.warn(a, `partial wildcard ${JSON.stringify(h)} is not supported; use a "*." prefix`);
    }
  });
}

/** Resolution decides what endpoints may be and how hosts are resolved. */
function resolutionRules(s: ServiceEntrySpec, at: At, c: Checker, servicePorts: Set<string>): void {
  const resolution = s.resolution ?? 'NONE';
  const f = (k: keyof ServiceEntrySpec): At => child(at, s, k);
  const eachEndpoint = (fn: (e: WorkloadEntrySpec, a: At) => void): void =>
    s.endpoints?.forEach((e, i) => fn(e, child(f('endpoints'), s.endpoints!, i)));
  if (resolution === 'NONE') {
    if (s.endpoints?.length)
      c.error(f('endpoints'), 'no endpoints may be given with resolution NONE (use STATIC or DNS)');
    if (s.workloadSelector)
      c.warn(f('workloadSelector'), 'workloadSelector should not be set when resolution is NONE');
  } else if (resolution === 'STATIC') {
    eachEndpoint((e, a) => checkEndpoint(e, a, c, { allowFqdn: false, servicePorts }));
  } else {
    if (!s.endpoints?.length)
      s.hosts.forEach((h, i) => {
        if (fqdnError(h))
          c.error(
            child(f('hosts'), s.hosts, i),
            `hosts must be DNS names without wildcard when resolution is ${resolution} and no endpoints are given`,
          );
      });
    if (resolution === 'DNS_ROUND_ROBIN' && (s.endpoints?.length ?? 0) > 1)
      c.error(f('endpoints'), 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
    eachEndpoint((e, a) => {
      // Istio: with DNS resolution an endpoint is an IP or a DNS name; a unix socket is neither.
      if (e.address?.startsWith('unix://'))
        c.error(
          child(a, e, 'address'),
          `endpoint address ${JSON.stringify(e.address)} is not a valid DNS name or IP address (resolution ${resolution})`,
        );
      else checkEndpoint(e, a, c, { allowFqdn: true, servicePorts });
    });
    if (s.workloadSelector)
      c.warn(f('workloadSelector'), `workloadSelector should not be set when resolution is ${resolution}`);
    if (s.addresses?.length && s.hosts.length > 1 && s.ports?.some((p) => isTcpLike(p.protocol)))
      c.warn(f('hosts'), 'a ServiceEntry with addresses and a TCP port should have only one host');
  }
  if (
    resolution !== 'NONE' &&
    s.hosts.length > 1 &&
    s.ports?.some((p) => !isHttpProtocol(p.protocol ?? '') && !isTlsProtocol(p.protocol ?? ''))
  )
    c.error(
      f('hosts'),
      'several hosts with non-HTTP, non-TLS ports cannot be told apart; use one host per ServiceEntry or resolution NONE',
    );
}

/** TCP-like protocols (everything but HTTP-family and UDP); an unset protocol counts. */
function isTcpLike(p: string | undefined): boolean {
  return !isHttpProtocol(p ?? 'tcp') && (p ?? '').toLowerCase() !== 'udp';
}

/** Schema of ServiceEntry.spec. */
export const serviceEntrySpec = (): Validator<ServiceEntrySpec> =>
  obj<ServiceEntrySpec>(
    {
      hosts: { v: list(nonEmpty(), { min: 1 }), required: true },
      addresses: list(str(checkCidr)),
      ports: list(servicePort()),
      location: enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL'] as const),
      resolution: enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] as const),
      endpoints: list(workloadEntrySpec()),
      workloadSelector: workloadSelector(),
      exportTo: list(str()),
      subjectAltNames: list(str()),
    },
    {
      rules: (s, at, c) => {
        const f = (k: keyof ServiceEntrySpec): At => child(at, s, k);
        if (s.workloadSelector)
          checkSelectorLabels(s.workloadSelector.labels, f('workloadSelector'), 'labels', c);
        if (s.workloadSelector && s.endpoints)
          c.error(f('endpoints'), 'only one of workloadSelector and endpoints may be set');
        hostRules(s, at, c);
        if (s.addresses?.some((a) => a.includes('/')) && !['NONE', 'STATIC'].includes(s.resolution ?? 'NONE'))
          c.error(f('addresses'), 'CIDR addresses are allowed only with resolution NONE or STATIC');
        const ports = portRules(s, at, c);
        resolutionRules(s, at, c, ports);
        if (s.exportTo) checkExportTo(s.exportTo, f('exportTo'), c, namespaceOf(at), true);
      },
    },
  );

/** The ServiceEntry kind. */
export const serviceEntryKind = istioKind('ServiceEntry', ISTIO_VERSIONS.networking, serviceEntrySpec());
