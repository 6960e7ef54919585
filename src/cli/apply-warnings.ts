// What `mizzen apply` warns about before writing: routes that name what the mesh does not define
// (istioctl analyze's IST0101, over the running config plus what is applied) and workloads whose
// containers have no command, so nothing would run for them locally.
import type { Diagnostic } from '../api/diagnostic.js';
import { resourceKey, resourceName, sourceOf, type Resource } from '../api/resource.js';
import { analyzeResources } from '../analyze/analyze.js';
import { formatFinding } from '../analyze/format.js';

/** Kinds whose pod template `mizzen up` runs as local processes. */
const WORKLOAD_KINDS = new Set(['Deployment', 'Pod', 'StatefulSet', 'ReplicaSet', 'DaemonSet']);

/** Analyzer findings with code IST0101 about the applied resources, as warnings, in `analyze`'s format. */
export function referenceWarnings(applied: readonly Resource[], running: readonly Resource[]): string[] {
  const merged = new Map<string, Resource>();
  for (const r of running) merged.set(resourceKey(r), r);
  for (const r of applied) merged.set(resourceKey(r), r);
  const names = new Set(applied.map(resourceName));
  return analyzeResources([...merged.values()])
    .filter((d: Diagnostic) => d.code === 'IST0101' && d.resource !== undefined && names.has(d.resource))
    .map((d) => formatFinding({ ...d, severity: 'warning' }));
}

/** One line per container of an applied workload that has no `command` (its image is not run). */
export function imageOnlyWarnings(applied: readonly Resource[]): string[] {
  const out: string[] = [];
  for (const r of applied) {
    if (!WORKLOAD_KINDS.has(r.kind)) continue;
    const spec = (r as { spec?: Record<string, any> }).spec;
    const podSpec = r.kind === 'Pod' ? spec : spec?.template?.spec;
    const containers: unknown[] = Array.isArray(podSpec?.containers) ? podSpec.containers : [];
    for (const c of containers as Array<Record<string, unknown>>) {
      if (Array.isArray(c.command) && c.command.length > 0) continue;
      const src = sourceOf(r);
      const where = src ? `${src.file}:${src.line}:${src.col}: ` : '';
      out.push(
        `${where}warning: ${resourceName(r)}: container ${String(c.name ?? '?')} has no command, so nothing runs ` +
          `for it locally (the image ${String(c.image ?? '')} is not run; only its sidecar starts); add command/args`,
      );
    }
  }
  return out;
}
