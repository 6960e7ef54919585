// Per-key and per-resource status of a store keyed by resource (etcd, Kubernetes), in the shape `/debug/configz` shows for files.
import type { Diagnostic } from '../../api/diagnostic.js';
import { resourceName, sourceOf } from '../../api/resource.js';
import type { ConfigState, FileStatus, ResourceStatus, StoreStatus } from '../store.js';

/** The part of a key's state status reads. */
interface KeyView {
  readonly good: readonly import('../../api/resource.js').Resource[];
  readonly diagnostics: readonly Diagnostic[];
  readonly rejected: boolean;
}

function stateOf(diags: readonly Diagnostic[], rejected = false): ConfigState {
  if (rejected || diags.some((d) => d.severity === 'error')) return 'rejected';
  return diags.some((d) => d.severity === 'warning') ? 'warning' : 'ok';
}

/** Status of every key (as a "file", by default named `etcd:<key>`) and of the resources they serve. */
export function keyStatus(
  entries: ReadonlyMap<string, KeyView>,
  fileOf: (key: string) => string = (key) => `etcd:${key}`,
): StoreStatus {
  const files: FileStatus[] = [];
  const resources: ResourceStatus[] = [];
  for (const key of [...entries.keys()].sort()) {
    const st = entries.get(key)!;
    const file = fileOf(key);
    files.push({
      file,
      state: stateOf(st.diagnostics, st.rejected),
      resources: st.good.length,
      diagnostics: st.diagnostics,
    });
    for (const r of st.good) {
      resources.push({
        resource: resourceName(r),
        kind: r.kind,
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        state: stateOf(st.diagnostics),
        file,
        line: sourceOf(r)?.line,
        diagnostics: st.diagnostics,
      });
    }
    if (st.good.length === 0 && st.rejected)
      resources.push({ resource: file, state: 'rejected', file, line: 1, diagnostics: st.diagnostics });
  }
  return { files, resources };
}
