// Workload instances from config: Pods that have an IP, and WorkloadEntries.
import type { Resource } from '../api/resource.js';
import type { Pod } from '../api/kinds/kubernetes/pod.js';
import type { WorkloadEntry, WorkloadEntrySpec } from '../api/kinds/networking/workload-entry.js';
import type { WorkloadGroup } from '../api/kinds/networking/workload-group.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { WorkloadInstance } from './model.js';
import { localityFromLabels, NO_LOCALITY, parseLocality } from './locality.js';

/** Every workload instance in the snapshot: running Pods with a podIP, then WorkloadEntries. */
export function buildWorkloads(snapshot: ConfigSnapshot): WorkloadInstance[] {
  const out: WorkloadInstance[] = [];
  const nodes = new Map<string, Readonly<Record<string, string>>>();
  for (const n of snapshot.byKind('Node')) nodes.set(n.metadata.name, n.metadata.labels ?? {});
  for (const r of snapshot.byKind('Pod')) {
    const w = podWorkload(r as Pod, nodes);
    if (w) out.push(w);
  }
  const groups = new Map<string, WorkloadGroup>();
  for (const g of snapshot.byKind('WorkloadGroup'))
    groups.set(`${g.metadata.namespace ?? 'default'}/${g.metadata.name}`, g as WorkloadGroup);
  for (const r of snapshot.byKind('WorkloadEntry')) {
    const w = workloadEntryWorkload(withGroupTemplate(r as WorkloadEntry, groups));
    if (w) out.push(w);
  }
  return out;
}

function podWorkload(
  pod: Pod,
  nodes: Map<string, Readonly<Record<string, string>>>,
): WorkloadInstance | null {
  const ip = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
  if (!ip) return null;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const labels = pod.metadata.labels ?? {};
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const terminating = (pod.metadata as unknown as Record<string, unknown>).deletionTimestamp !== undefined;
  const nodeName = pod.spec?.nodeName;
  const locality =
    localityFromLabels(labels) ?? (nodeName ? localityFromLabels(nodes.get(nodeName)) : null) ?? NO_LOCALITY;
  const namedPorts = new Map<string, number>();
  const containerPorts: { name: string; port: number }[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.protocol === 'UDP') continue;
      containerPorts.push({ name: p.name ?? '', port: p.containerPort });
      if (p.name) namedPorts.set(p.name, p.containerPort);
    }
  }
  return {
    kind: 'Pod',
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? 'default',
    address: ip,
    labels,
    locality,
    serviceAccount: pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default',
    healthy: !terminating && (ready ? ready.status === 'True' : phase !== 'Pending'),
    weight: 1,
    namedPorts,
    containerPorts,
  };
}

function workloadEntryWorkload(we: WorkloadEntry): WorkloadInstance | null {
  const spec = we.spec ?? {};
  if (!spec.address) return null;
  return {
    kind: 'WorkloadEntry',
    name: we.metadata.name,
    namespace: we.metadata.namespace ?? 'default',
    address: spec.address,
    labels: spec.labels ?? {},
    locality: spec.locality ? parseLocality(spec.locality) : (localityFromLabels(spec.labels) ?? NO_LOCALITY),
    serviceAccount: spec.serviceAccount ?? 'default',
    healthy: !isUnhealthyEntry(we),
    weight: spec.weight && spec.weight > 0 ? spec.weight : 1,
    namedPorts: new Map(Object.entries(spec.ports ?? {})),
    containerPorts: [],
  };
}

/** Istio's annotation naming the WorkloadGroup an auto-registered WorkloadEntry belongs to. */
export const AUTO_REGISTRATION_GROUP = 'istio.io/autoRegistrationGroup';

/**
 * A WorkloadEntry that names its WorkloadGroup (annotation istio.io/autoRegistrationGroup or an owner
 * reference) takes the group's template for the fields it leaves out, and the group's labels.
 */
function withGroupTemplate(we: WorkloadEntry, groups: Map<string, WorkloadGroup>): WorkloadEntry {
  const ns = we.metadata.namespace ?? 'default';
  const owner = (we.metadata.ownerReferences as { kind?: string; name?: string }[] | undefined)?.find(
    (o) => o.kind === 'WorkloadGroup',
  );
  const name = we.metadata.annotations?.[AUTO_REGISTRATION_GROUP] ?? owner?.name;
  const group = name ? groups.get(`${ns}/${name}`) : undefined;
  if (!group) return we;
  const t: WorkloadEntrySpec = group.spec?.template ?? {};
  const spec: WorkloadEntrySpec = {
    ...t,
    ...we.spec,
    labels: { ...group.spec?.metadata?.labels, ...t.labels, ...we.spec?.labels },
    ports: { ...t.ports, ...we.spec?.ports },
  };
  return { ...we, spec };
}

/** Istio health-checked WorkloadEntries carry a Healthy condition in status. */
function isUnhealthyEntry(we: Resource): boolean {
  const conds = (we.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions;
  const h = conds?.find((c) => c.type === 'Healthy');
  return h !== undefined && h.status === 'False';
}
