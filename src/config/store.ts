// The config store contract: an immutable, versioned snapshot of resources plus typed change events.
import type { Diagnostic } from '../api/diagnostic.js';
import type { Resource } from '../api/resource.js';
import type { ConfigEventCounts } from './config-events.js';

/** An immutable view of every resource the store serves, at one version. */
export interface ConfigSnapshot {
  /** Increases by one on every effective change; 0 before the first load. */
  readonly version: number;
  /** Every resource, in load order (directory order, then document order). */
  readonly resources: readonly Resource[];
  /** Resources of one kind (e.g. `VirtualService`); empty when none. */
  byKind(kind: string): readonly Resource[];
  /** One resource by kind, namespace ('' for cluster-scoped) and name. */
  get(kind: string, namespace: string, name: string): Resource | undefined;
}

/** What happened to one resource between two snapshots. */
export type ConfigEvent =
  | { readonly type: 'added'; readonly resource: Resource }
  | { readonly type: 'updated'; readonly resource: Resource; readonly previous: Resource }
  | { readonly type: 'deleted'; readonly previous: Resource };

/** One effective change: the new snapshot and the events that led from the previous one to it. */
export interface ConfigChange {
  readonly snapshot: ConfigSnapshot;
  readonly previous: ConfigSnapshot;
  readonly events: readonly ConfigEvent[];
  /** The kinds any event touched (lets consumers rebuild only the indexes that depend on them). */
  readonly kinds: ReadonlySet<string>;
}

/** ok: valid; warning: valid with warnings; rejected: has errors, the last good version (if any) still serves. */
export type ConfigState = 'ok' | 'warning' | 'rejected';

/** The status of one resource, or of a document that could not become one. */
export interface ResourceStatus {
  /** `Kind namespace/name`, or `<file>#<index>` for a document with no usable identity. */
  readonly resource: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly state: ConfigState;
  /** Where the resource is defined (the currently served definition, or the rejected one). */
  readonly file?: string;
  readonly line?: number;
  /** Errors and warnings, positioned (file:line:col + field path). */
  readonly diagnostics: readonly Diagnostic[];
}

/** The status of one source file. */
export interface FileStatus {
  readonly file: string;
  readonly state: ConfigState;
  /** Number of resources this file currently contributes (from its last good version when rejected). */
  readonly resources: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** Status of everything a store read. */
export interface StoreStatus {
  readonly files: readonly FileStatus[];
  readonly resources: readonly ResourceStatus[];
}

/** Listener for changes; called synchronously after the snapshot was replaced. */
export type ConfigListener = (change: ConfigChange) => void;

/**
 * A source of config. Implementations: FileStore (a watched directory), EtcdStore (etcd) and
 * KubernetesStore (the Kubernetes API).
 * Consumers read `snapshot()` and `subscribe()` to changes; they never mutate resources.
 */
export interface ConfigStore {
  /** Reads the initial config; resolves when the first snapshot is ready. */
  start(): Promise<void>;
  /** The current snapshot. */
  snapshot(): ConfigSnapshot;
  /** Registers a listener; returns a function that removes it. */
  subscribe(listener: ConfigListener): () => void;
  /** Per-file and per-resource status (ok / warning / rejected with positioned diagnostics). */
  status(): StoreStatus;
  /** Config events published so far, by kind and add/update/delete (pilot_k8s_cfg_events). */
  readonly eventCounts: ConfigEventCounts;
  /** Stops watching and releases timers. */
  close(): Promise<void>;
}
