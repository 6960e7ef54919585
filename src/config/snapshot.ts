// Immutable, indexed config snapshots and the diff between two of them.
import { resourceKey, type Resource } from '../api/resource.js';
import type { ConfigEvent, ConfigSnapshot } from './store.js';

const EMPTY: readonly Resource[] = Object.freeze([]);

/** Builds a frozen snapshot with a per-kind index and a key index. */
export function buildSnapshot(version: number, resources: readonly Resource[]): ConfigSnapshot {
  const list = Object.freeze([...resources]);
  const kinds = new Map<string, Resource[]>();
  const keys = new Map<string, Resource>();
  for (const r of list) {
    let l = kinds.get(r.kind);
    if (!l) kinds.set(r.kind, (l = []));
    l.push(r);
    keys.set(resourceKey(r), r);
  }
  for (const l of kinds.values()) Object.freeze(l);
  return Object.freeze({
    version,
    resources: list,
    byKind: (kind: string) => kinds.get(kind) ?? EMPTY,
    get: (kind: string, namespace: string, name: string) =>
      keys.get(resourceKey({ kind, metadata: { name, namespace: namespace || undefined } })),
  });
}

/** The events that turn `before` into `after` (resources compared by key, then by content). */
export function diffResources(before: readonly Resource[], after: readonly Resource[]): ConfigEvent[] {
  const old = new Map<string, Resource>();
  for (const r of before) old.set(resourceKey(r), r);
  const events: ConfigEvent[] = [];
  const seen = new Set<string>();
  for (const r of after) {
    const key = resourceKey(r);
    seen.add(key);
    const prev = old.get(key);
    if (!prev) events.push({ type: 'added', resource: r });
    else if (prev !== r && !sameContent(prev, r))
      events.push({ type: 'updated', resource: r, previous: prev });
  }
  for (const [key, prev] of old) if (!seen.has(key)) events.push({ type: 'deleted', previous: prev });
  return events;
}

function sameContent(a: Resource, b: Resource): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
