// ServiceEntry (networking.istio.io): adds services (external APIs, VMs) to the mesh's service registry.
import type { SpecResource } from '../../resource.js';
import type { WorkloadEntrySpec } from './workload-entry.js';
import type { WorkloadSelector } from './workload-selector.js';

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
