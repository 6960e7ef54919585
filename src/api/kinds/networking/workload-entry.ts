// WorkloadEntry (networking.istio.io): a non-Kubernetes workload (VM, bare process) in the mesh.
import { isIP } from 'node:net';
import { obj, str, record, uint32, child, type At, type Checker, type Validator } from '../../schema.js';
import { checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { checkPortName, unixPathError } from './common.js';
import { fqdnError } from './hosts.js';

/** WorkloadEntry.spec: where one workload instance lives and how it is labelled. */
export interface WorkloadEntrySpec {
  /** IP, DNS name, or `unix://` socket of the workload; required unless `network` is set. */
  address?: string;
  /** Service port name → workload port, overriding the service's targetPort. */
  ports?: Record<string, number>;
  /** Labels the workload carries; Services and subsets select on them. */
  labels?: Record<string, string>;
  /** Network the workload is on (multi-network meshes). */
  network?: string;
  /** Locality `region/zone/subzone`. */
  locality?: string;
  /** Relative load-balancing weight (0 = default 1). */
  weight?: number;
  /** Service account the workload runs as (becomes its SPIFFE identity). */
  serviceAccount?: string;
}

/** A WorkloadEntry resource. */
export type WorkloadEntry = SpecResource<'WorkloadEntry', WorkloadEntrySpec>;

/** Schema of WorkloadEntry.spec field types (shared with ServiceEntry.endpoints and WorkloadGroup.template). */
export const workloadEntrySpec = (): Validator<WorkloadEntrySpec> =>
  obj<WorkloadEntrySpec>(
    {
      address: str(),
      ports: record(uint32(), checkPortName),
      labels: labels(),
      network: str(),
      locality: str(),
      weight: uint32(),
      serviceAccount: str(),
    },
    {
      rules: (s, at, c) => {
        if (!s.ports) return;
        const portsAt = child(at, s, 'ports');
        for (const [name, port] of Object.entries(s.ports)) checkPort(port, child(portsAt, s.ports, name), c);
      },
    },
  );

/** How an endpoint's address may be written where it is used. */
export interface EndpointOptions {
  /** DNS names allowed (WorkloadEntry, DNS ServiceEntry); otherwise IPs and unix sockets only (STATIC). */
  allowFqdn: boolean;
  /** Port names of the owning ServiceEntry; endpoint ports must name one of them. */
  servicePorts?: ReadonlySet<string>;
}

/**
 * Endpoint rules as Istio's validateWorkloadEntry: an address (or a network), IP / DNS name / unix
 * socket; unix sockets take no ports; port names must be the service's.
 */
export function checkEndpoint(we: WorkloadEntrySpec, at: At, c: Checker, opts: EndpointOptions): void {
  const addr = we.address ?? '';
  const addrAt = child(at, we, 'address');
  if (addr === '') {
    if (!we.network) c.error(addrAt, 'is required (or set network for a workload reached through a gateway)');
    else
      c.warn(
        at,
        `address is unset: the workload is reached through the gateway of network ${JSON.stringify(we.network)}`,
      );
  } else if (addr.startsWith('unix://')) {
    const e = unixPathError(addr.slice('unix://'.length));
    if (e) c.error(addrAt, e);
    if (we.ports && Object.keys(we.ports).length)
      c.error(child(at, we, 'ports'), `unix endpoint ${addr} must not have ports`);
    if (opts.servicePorts && opts.servicePorts.size !== 1)
      c.error(addrAt, 'a unix endpoint needs exactly one service port in the ServiceEntry');
  } else if (!isIP(addr)) {
    if (!opts.allowFqdn)
      c.error(
        addrAt,
        `endpoint address ${JSON.stringify(addr)} is not a valid IP address (STATIC resolution needs IPs or unix:// sockets)`,
      );
    else if (fqdnError(addr))
      c.error(addrAt, `endpoint address ${JSON.stringify(addr)} is not a valid DNS name or IP address`);
  }
  if (opts.servicePorts && we.ports) {
    const portsAt = child(at, we, 'ports');
    for (const name of Object.keys(we.ports))
      if (!opts.servicePorts.has(name))
        c.error(
          child(portsAt, we.ports, name),
          `endpoint port ${JSON.stringify(name)} is not a port name of the ServiceEntry`,
        );
  }
}

/** WorkloadEntry.spec: field types plus endpoint rules (DNS names allowed). */
const fields = workloadEntrySpec();
const spec: Validator<WorkloadEntrySpec> = (v, at, c) => {
  const mark = c.diagnostics.length;
  const s = fields(v, at, c);
  if (s && !c.failedSince(mark)) checkEndpoint(s, at, c, { allowFqdn: true });
  return s;
};

/** The WorkloadEntry kind. */
export const workloadEntryKind = istioKind('WorkloadEntry', ISTIO_VERSIONS.networking, spec);
