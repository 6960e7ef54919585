// Stores the control plane can write to: `mizzen apply|delete --server` go through the server's HTTP API.
import type { Resource } from '../api/resource.js';
import type { ConfigStore } from './store.js';

/** Identifies one resource: kind, namespace ('' for cluster-scoped kinds) and name. */
export interface ResourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** What writing one resource did, in kubectl's words. */
export type WriteAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'not found';

/** The outcome of writing one resource. */
export interface WriteOutcome {
  readonly ref: ResourceRef;
  readonly action: WriteAction;
}

/**
 * A config store that accepts writes. Resources handed to `apply` are already validated; the store
 * writes them all or none, and its watch then serves them like any other change.
 */
export interface WritableConfigStore extends ConfigStore {
  /** Creates or replaces resources (all or none). */
  apply(resources: readonly Resource[]): Promise<WriteOutcome[]>;
  /** Deletes resources; absent ones come back as `not found`. */
  delete(refs: readonly ResourceRef[]): Promise<WriteOutcome[]>;
  /** Where the store keeps its config, for messages (e.g. `etcd http://127.0.0.1:2379 /mizzen/`). */
  readonly description: string;
}

/** True when a store accepts writes. */
export function isWritable(store: ConfigStore): store is WritableConfigStore {
  const s = store as Partial<WritableConfigStore>;
  return typeof s.apply === 'function' && typeof s.delete === 'function';
}

/** The ref of a loaded resource. */
export function refOf(r: Resource): ResourceRef {
  return { kind: r.kind, namespace: r.metadata.namespace ?? '', name: r.metadata.name };
}
