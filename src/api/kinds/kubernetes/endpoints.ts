// Endpoints (v1): the addresses behind a Service, grouped into subsets of identical ports.
import type { Resource } from '../../resource.js';
import type { ObjectReference } from './object-reference.js';

/** One endpoint address. */
export interface EndpointAddress {
  /** IPv4 or IPv6 address. */
  ip: string;
  hostname?: string;
  nodeName?: string;
  /** The object (usually a Pod) behind this address. */
  targetRef?: ObjectReference;
}

/** One port of an Endpoints subset. */
export interface EndpointPort {
  /** Must equal the Service port's name when the Service has several ports. */
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** A group of addresses that all serve the same ports. */
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** An Endpoints resource (named like its Service). */
export interface Endpoints extends Resource {
  kind: 'Endpoints';
  subsets?: EndpointSubset[];
}
