// EndpointSlice (discovery.k8s.io/v1): a slice of the endpoints behind a Service.
import { isIP } from 'node:net';
import {
  obj,
  str,
  bool,
  list,
  enumOf,
  record,
  fieldAt,
  isPlainObject,
  child,
  type Validator,
} from '../../schema.js';
import { isDns1123Subdomain } from '../../checks.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { objectReference, type ObjectReference } from './object-reference.js';
import { checkDnsLabel } from './names.js';
import { checkPortNames, type PortProtocol } from './service.js';
import { endpointPort } from './endpoints.js';

/** Readiness of one endpoint; absent fields mean "unknown" (treated as ready/serving). */
export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** Topology hints of one endpoint. */
export interface EndpointHints {
  forZones?: { name: string }[];
  forNodes?: { name: string }[];
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
  hints?: EndpointHints;
}

/** One port of a slice; name matches the Service port name. */
export interface EndpointSlicePort {
  name?: string;
  /** Absent = all ports. */
  port?: number;
  protocol?: PortProtocol;
  appProtocol?: string;
}

/** The kinds of address a slice holds. */
export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';

/** An EndpointSlice resource; label kubernetes.io/service-name names its Service. */
export interface EndpointSlice extends Resource {
  kind: 'EndpointSlice';
  addressType: AddressType;
  endpoints: SliceEndpoint[];
  ports?: EndpointSlicePort[];
}

/** The label that ties a slice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

// ---------- validation ----------

const named = (): Validator<{ name: string }> =>
  obj<{ name: string }>({ name: { required: true, v: str() } });

const endpoint = (): Validator<SliceEndpoint> =>
  obj<SliceEndpoint>({
    addresses: { required: true, v: list(str(), { min: 1, max: 100 }) },
    conditions: obj<EndpointConditions>({ ready: bool(), serving: bool(), terminating: bool() }),
    hostname: str(checkDnsLabel),
    nodeName: str(),
    zone: str(),
    targetRef: objectReference(),
    deprecatedTopology: record(str()),
    hints: obj<EndpointHints>({ forZones: list(named(), { max: 8 }), forNodes: list(named(), { max: 8 }) }),
  });

function addressOk(type: AddressType, a: string): boolean {
  if (type === 'IPv4') return isIP(a) === 4;
  if (type === 'IPv6') return isIP(a) === 6;
  return isDns1123Subdomain(a);
}

/** The EndpointSlice kind: addresses must fit addressType; ports need unique names. */
export const endpointSliceKind = kubeKind(
  'EndpointSlice',
  ['discovery.k8s.io/v1'],
  {
    addressType: { required: true, v: enumOf(['IPv4', 'IPv6', 'FQDN'] as const) },
    endpoints: { required: true, v: list(endpoint(), { max: 1000 }) },
    ports: list(endpointPort(false), { max: 100 }),
  },
  {
    rules: (out, at, c) => {
      const s = out as unknown as EndpointSlice;
      const eAt = fieldAt(at, s, 'endpoints');
      s.endpoints.forEach((e, i) => {
        const aAt = fieldAt(fieldAt(eAt, s.endpoints, i), e, 'addresses');
        e.addresses.forEach((a, j) => {
          if (!addressOk(s.addressType, a))
            c.error(
              fieldAt(aAt, e.addresses, j),
              `must be ${s.addressType === 'FQDN' ? 'a lower-case DNS name' : `an ${s.addressType} address`} (addressType ${s.addressType}), got ${JSON.stringify(a)}`,
            );
        });
      });
      if (s.ports) checkPortNames(s.ports, fieldAt(at, s, 'ports'), c);
      const meta = out.metadata;
      const l = isPlainObject(meta) ? meta.labels : undefined;
      if (!isPlainObject(l) || typeof l[SERVICE_NAME_LABEL] !== 'string')
        c.warn(
          child(at, out, 'metadata'),
          `has no ${SERVICE_NAME_LABEL} label, so no Service uses these endpoints`,
        );
    },
  },
);
