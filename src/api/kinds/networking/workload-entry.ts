// WorkloadEntry (networking.istio.io): a non-Kubernetes workload (VM, bare process) in the mesh.
import { obj, str, record, uint32, int, type Validator } from '../../schema.js';
import { checkHost, checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { isIP } from 'node:net';

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

/** Checks the address: IP, DNS name, or unix socket path. */
function checkAddress(
  v: string,
  at: Parameters<typeof checkHost>[1],
  c: Parameters<typeof checkHost>[2],
): void {
  if (v.startsWith('unix://')) {
    if (v.length === 'unix://'.length) c.error(at, 'unix:// address needs a socket path');
    return;
  }
  if (isIP(v)) return;
  checkHost(v, at, c, { wildcard: false });
}

/** Schema of WorkloadEntry.spec (shared with WorkloadGroup.template). */
export const workloadEntrySpec = (): Validator<WorkloadEntrySpec> =>
  obj<WorkloadEntrySpec>(
    {
      address: str(checkAddress),
      ports: record(uint32(), undefined),
      labels: labels(),
      network: str(),
      locality: str(),
      weight: int(0, 4294967295),
      serviceAccount: str(),
    },
    {
      rules: (s, at, c) => {
        if (s.ports) {
          for (const [name, port] of Object.entries(s.ports))
            checkPort(port, { path: `${at.path}.ports.${name}`, holder: s.ports, key: name }, c);
        }
      },
    },
  );

/** Rules beyond field types: an address or a network is needed. */
const spec: Validator<WorkloadEntrySpec> = (v, at, c) => {
  const s = workloadEntrySpec()(v, at, c);
  if (s && !s.address && !s.network)
    c.error(
      { ...at, path: `${at.path}.address` },
      'is required (or set network for a workload reached through a gateway)',
    );
  return s;
};

/** The WorkloadEntry kind. */
export const workloadEntryKind = istioKind('WorkloadEntry', ISTIO_VERSIONS.networking, spec);
