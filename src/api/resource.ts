// The shape every loaded resource has, and how a kind plugs its schema in.
import type { Validator } from './schema.js';

/** Kubernetes ObjectMeta, the parts a mesh reads. */
export interface ObjectMeta {
  name: string;
  /** Defaults to "default" for namespaced kinds, as kubectl does with the default context. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  ownerReferences?: unknown[];
  finalizers?: string[];
}

/**
 * A loaded, validated resource: the normalized Kubernetes object itself (camelCase fields), e.g.
 * `vs.spec.http`, `pod.status.podIP`, `secret.data`. Its source position is kept aside:
 * see `sourceOf`.
 */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A resource of one kind with its spec typed. */
export interface SpecResource<K extends string, S> extends Resource {
  kind: K;
  spec: S;
}

/** Where a resource came from. */
export interface SourceRef {
  readonly file: string;
  /** 0-based document index within the file. */
  readonly index: number;
  readonly line: number;
  readonly col: number;
}

const sources = new WeakMap<object, SourceRef>();

/** Records where a resource came from. */
export function setSource(r: object, s: SourceRef): void {
  sources.set(r, s);
}

/** Where a resource came from, if it was loaded from a file. */
export function sourceOf(r: object): SourceRef | undefined {
  return sources.get(r);
}

/** `Kind namespace/name` (or `Kind name` for cluster-scoped kinds). */
export function resourceName(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return r.metadata.namespace
    ? `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`
    : `${r.kind} ${r.metadata.name}`;
}

/** A stable key for a resource: `kind/namespace/name`. */
export function resourceKey(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

/** How a kind is recognised and checked. One KindDef per kind, in src/api/kinds/. */
export interface KindDef {
  readonly kind: string;
  /** Accepted apiVersions, e.g. ['networking.istio.io/v1alpha3', 'networking.istio.io/v1beta1', 'networking.istio.io/v1']. */
  readonly apiVersions: readonly string[];
  /** apiVersions accepted with a warning: apiVersion → what to use instead. */
  readonly deprecatedApiVersions?: Readonly<Record<string, string>>;
  /** False for cluster-scoped kinds (Namespace). */
  readonly namespaced: boolean;
  /**
   * Checks everything except apiVersion, kind and metadata (which the envelope checks), given the
   * whole object; returns the normalized fields to merge into the resource (e.g. `{ spec }`).
   */
  readonly body: Validator<Record<string, unknown>>;
}
