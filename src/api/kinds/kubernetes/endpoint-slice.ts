// EndpointSlice (discovery.k8s.io/v1): a slice of the endpoints behind a Service.
import type { Resource } from '../../resource.js';
import type { ObjectReference } from './object-reference.js';

/** Readiness of one endpoint; absent fields mean "unknown" (treated as ready/serving). */
export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** One endpoint of a slice. */
export interface SliceEndpoint {
  /** 1–100 addresses of the addressType; consumers use the first. */
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
  deprecatedTopology?: Record<string, string>;
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
}

/** One port of a slice; name matches the Service port name. */
export interface EndpointSlicePort {
  name?: string;
  /** Absent = all ports. */
  port?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** An EndpointSlice resource; label kubernetes.io/service-name names its Service. */
export interface EndpointSlice extends Resource {
  kind: 'EndpointSlice';
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
  ports?: EndpointSlicePort[];
}
