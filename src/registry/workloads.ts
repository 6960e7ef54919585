// Workload instances from config: Pods that have an IP, and WorkloadEntries.
import type { Resource } from '../api/resource.js';
import type { Pod } from '../api/kinds/kubernetes/pod.js';
import type { WorkloadEntry } from '../api/kinds/networking/workload-entry.js';
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
  for (const r of snapshot.byKind('WorkloadEntry')) {
    const w = workloadEntryWorkload(r as WorkloadEntry);
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

/** Istio health-checked WorkloadEntries carry a Healthy condition in status. */
function isUnhealthyEntry(we: Resource): boolean {
  const conds = (we.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions;
  const h = conds?.find((c) => c.type === 'Healthy');
  return h !== undefined && h.status === 'False';
}
