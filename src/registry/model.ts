// The service registry's model: mesh services, their ports, and the endpoints behind each port.

/** Istio's protocols; UNSUPPORTED means "sniff" (no name prefix or appProtocol said). */
export type Protocol =
  | 'HTTP'
  | 'HTTP2'
  | 'HTTPS'
  | 'GRPC'
  | 'GRPC-WEB'
  | 'TCP'
  | 'TLS'
  | 'MONGO'
  | 'MYSQL'
  | 'REDIS'
  | 'UDP'
  | 'UNSUPPORTED';

/** How a proxy finds a service's endpoints (Istio's model.Resolution, named after ServiceEntry's). */
export type Resolution =
  /** Endpoints known to the control plane, served over EDS (Kubernetes services, STATIC entries). */
  | 'STATIC'
  /** The proxy resolves the hostnames (STRICT_DNS cluster). */
  | 'DNS'
  /** The proxy resolves and uses one address per connection (LOGICAL_DNS cluster). */
  | 'DNS_ROUND_ROBIN'
  /** Forward to the original destination (ORIGINAL_DST cluster). */
  | 'NONE';

/** One port of a mesh service. */
export interface ServicePort {
  /** Port name ('' when unnamed). */
  readonly name: string;
  /** Service port number. */
  readonly port: number;
  readonly protocol: Protocol;
}

/** Where a locality-aware balancer places an endpoint. */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** A service the mesh routes to: a Kubernetes Service or one host of a ServiceEntry. */
export interface MeshService {
  /** Fully qualified host, e.g. `reviews.default.svc.cluster.local` or `api.example.com`. */
  readonly hostname: string;
  /** Namespace of the defining resource. */
  readonly namespace: string;
  /** Name of the defining resource. */
  readonly name: string;
  /** Which kind defined it. */
  readonly source: 'Service' | 'ServiceEntry';
  readonly ports: readonly ServicePort[];
  readonly resolution: Resolution;
  /** MESH_EXTERNAL services are outside the mesh (no mTLS, their own stats). */
  readonly location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  /** Virtual IPs (ClusterIP, ServiceEntry addresses); may be empty. */
  readonly addresses: readonly string[];
  /** Namespaces that may see the service: `*` (all), or names (`.` already resolved). */
  readonly exportTo: ReadonlySet<string>;
  /** Labels of the defining resource. */
  readonly labels: Readonly<Record<string, string>>;
}

/** One instance behind one service port. */
export interface Endpoint {
  /** IP address or (for DNS resolution) hostname. */
  readonly address: string;
  /** The port the instance listens on for this service port (the target port). */
  readonly port: number;
  /** Labels of the workload (subsets select on these). */
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: Locality;
  /** Load-balancing weight, >= 1. */
  readonly weight: number;
  /** False for not-ready pods and not-ready Endpoints addresses (sent as UNHEALTHY). */
  readonly healthy: boolean;
  /** Namespace and name of the workload ('' when unknown). */
  readonly namespace: string;
  readonly workloadName: string;
  readonly serviceAccount: string;
}

/** A workload instance from config: a Pod with an IP, or a WorkloadEntry. */
export interface WorkloadInstance {
  readonly kind: 'Pod' | 'WorkloadEntry';
  readonly name: string;
  readonly namespace: string;
  /** Pod IP or WorkloadEntry address. */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: Locality;
  readonly serviceAccount: string;
  readonly healthy: boolean;
  readonly weight: number;
  /** Named ports: container port names (Pods) or WorkloadEntry `ports` (service port name → port). */
  readonly namedPorts: ReadonlyMap<string, number>;
  /** Every container port the workload declares (Pods); empty for WorkloadEntries. */
  readonly containerPorts: readonly { readonly name: string; readonly port: number }[];
}
