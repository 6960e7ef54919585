// An object from the Kubernetes API as config: the fields that are not config dropped, then validated like a file.
import { loadText } from '../../api/load.js';
import type { Diagnostic } from '../../api/diagnostic.js';
import type { Resource } from '../../api/resource.js';
import type { WatchedKind } from './watched-kinds.js';

/** An object as the API serves it (list items and watch events). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; generation?: number };
  status?: unknown;
  [field: string]: unknown;
}

/** What one API object became. */
export interface LoadedObject {
  /** Where diagnostics point: `kubernetes:<Kind>/<namespace>/<name>` (a line of the YAML shown by status). */
  readonly file: string;
  /** The config text validated (the object as indented JSON, without its server-side bookkeeping). */
  readonly text: string;
  /** The resource, absent when the object has errors. */
  readonly resource: Resource | undefined;
  readonly diagnostics: Diagnostic[];
}

/** `Kind/namespace/name` of an API object ('' namespace for cluster-scoped kinds). */
export function objectKey(kind: WatchedKind, obj: KubeObject): string {
  return `${kind.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * The object as config: list items carry no apiVersion/kind (the list has them), so they are set from
 * the watched resource; resourceVersion and managedFields are the server's bookkeeping, and an Istio
 * resource's `status` is written by the control plane itself, so none of them is config (a status
 * write must not look like a config change). A Pod's `spec.serviceAccount`, the deprecated alias the
 * API server copies from serviceAccountName, is dropped too.
 */
export function configOf(kind: WatchedKind, obj: KubeObject): Record<string, unknown> {
  const { status, metadata, ...rest } = obj;
  const meta: Record<string, unknown> = { ...(metadata ?? {}) };
  delete meta.resourceVersion;
  delete meta.managedFields;
  delete meta.selfLink;
  // The API server fills Pod spec.serviceAccount (deprecated) from serviceAccountName on every Pod.
  const spec = rest.spec as Record<string, unknown> | undefined;
  if (kind.kind === 'Pod' && spec && spec.serviceAccount === spec.serviceAccountName) {
    const { serviceAccount: _alias, ...own } = spec;
    rest.spec = own;
  }
  return {
    apiVersion: obj.apiVersion ?? kind.apiVersion,
    kind: obj.kind ?? kind.kind,
    metadata: meta,
    ...rest,
    ...(status !== undefined && !kind.istio ? { status } : {}),
  };
}

/** Validates one API object with the config API (the same checks as `mizzen validate`). */
export function loadObject(kind: WatchedKind, obj: KubeObject): LoadedObject {
  const file = `kubernetes:${objectKey(kind, obj)}`;
  // Indented JSON: one field per line for diagnostics' positions, and about 100 times cheaper to
  // produce than YAML for the thousands of Pods and Secrets of a first list.
  const text = JSON.stringify(configOf(kind, obj), null, 2);
  const r = loadText(text, file);
  const diagnostics = [...r.diagnostics];
  if (r.resources.length !== 1 && !diagnostics.some((d) => d.severity === 'error'))
    diagnostics.push({
      severity: 'error',
      file,
      line: 1,
      col: 1,
      path: '',
      message: `expected one ${kind.kind}, found ${r.resources.length}`,
    });
  const resource = diagnostics.some((d) => d.severity === 'error') ? undefined : r.resources[0];
  return { file, text, resource, diagnostics };
}
