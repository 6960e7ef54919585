// Service (v1): a named set of pods behind stable ports; the mesh's unit of routing.
import type { Resource } from '../../resource.js';

/** One port of a Service. */
export interface ServicePort {
  /** Port name (DNS-1123 label); required and unique when there is more than one port. Its prefix
   * (`http-`, `grpc-`, `tcp-`, ...) selects the protocol when appProtocol is absent. */
  name?: string;
  /** Service port number, 1–65535. */
  port: number;
  /** Pod port: a number, or the name of a container port (IANA_SVC_NAME). Default: `port`. */
  targetPort?: number | string;
  /** Default TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** Application protocol, e.g. "http", "grpc", "kubernetes.io/h2c"; overrides the name prefix. */
  appProtocol?: string;
  /** Node port for NodePort/LoadBalancer services, 1–65535. */
  nodePort?: number;
}

/** Session affinity timeout settings. */
export interface SessionAffinityConfig {
  clientIP?: { timeoutSeconds?: number };
}

/** Service.spec. */
export interface ServiceSpec {
  ports?: ServicePort[];
  /** Pod labels that select the endpoints; absent = endpoints are managed by hand. */
  selector?: Record<string, string>;
  /** Default ClusterIP. */
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Virtual IP, "None" for a headless service, or "" to allocate. */
  clusterIP?: string;
  clusterIPs?: string[];
  /** DNS name an ExternalName service aliases. */
  externalName?: string;
  externalIPs?: string[];
  /** Default None. */
  sessionAffinity?: 'ClientIP' | 'None';
  sessionAffinityConfig?: SessionAffinityConfig;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  loadBalancerClass?: string;
  allocateLoadBalancerNodePorts?: boolean;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: ('IPv4' | 'IPv6')[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  /** e.g. "PreferClose". */
  trafficDistribution?: string;
}

/** A Service resource (named KubeService to keep it apart from the mesh's service model). */
export interface KubeService extends Resource {
  kind: 'Service';
  spec: ServiceSpec;
  status?: Record<string, unknown>;
}
