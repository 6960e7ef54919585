// Endpoints (v1): the addresses behind a Service, grouped into subsets of identical ports.
import { obj, str, list, fieldAt, type Validator } from '../../schema.js';
import { checkIp } from '../../checks.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { objectReference, type ObjectReference } from './object-reference.js';
import { checkDnsLabel, checkQualifiedName } from './names.js';
import { checkPortNames, portNumber, portProtocol, type PortProtocol } from './service.js';

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
  protocol?: PortProtocol;
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

// ---------- validation ----------

const address = (): Validator<EndpointAddress> =>
  obj<EndpointAddress>({
    ip: { required: true, v: str(checkIp) },
    hostname: str(checkDnsLabel),
    nodeName: str(),
    targetRef: objectReference(),
  });

/** Schema of an Endpoints/EndpointSlice port (`port` required for Endpoints). */
export const endpointPort = (portRequired: boolean): Validator<EndpointPort> =>
  obj<EndpointPort>({
    name: str((v, at, c) => {
      if (v !== '') checkDnsLabel(v, at, c);
    }),
    port: { required: portRequired, v: portNumber() },
    protocol: portProtocol(),
    appProtocol: str(checkQualifiedName),
  });

const subset = (): Validator<EndpointSubset> =>
  obj<EndpointSubset>(
    { addresses: list(address()), notReadyAddresses: list(address()), ports: list(endpointPort(true)) },
    {
      rules: (s, at, c) => {
        if (s.ports) checkPortNames(s.ports, fieldAt(at, s, 'ports'), c, { nameRequired: true });
      },
    },
  );

/** The Endpoints kind. */
export const endpointsKind = kubeKind('Endpoints', ['v1'], { subsets: list(subset()) });
