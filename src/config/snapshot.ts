// Immutable, indexed config snapshots and the diff between two of them.
import { resourceKey, type Resource } from '../api/resource.js';
import type { ConfigEventCounts } from './config-events.js';
import type { ConfigChange, ConfigEvent, ConfigListener, ConfigSnapshot } from './store.js';

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

/**
 * The snapshot that follows `previous` with `resources`, and the change to announce: `previous` itself
 * and no change when nothing differs; the first real snapshot (after version 0) is not announced.
 * Every event, those of the first load included (as Istio's informers count their initial adds), is
 * recorded in `counts` (pilot_k8s_cfg_events).
 */
export function nextSnapshot(
  previous: ConfigSnapshot,
  resources: readonly Resource[],
  counts: ConfigEventCounts,
): { snapshot: ConfigSnapshot; change: ConfigChange | null } {
  const events = diffResources(previous.resources, resources);
  counts.record(events);
  if (events.length === 0 && previous.version > 0) return { snapshot: previous, change: null };
  const snapshot = buildSnapshot(previous.version + 1, resources);
  if (previous.version === 0) return { snapshot, change: null };
  const kinds = new Set<string>();
  for (const e of events) kinds.add(e.type === 'deleted' ? e.previous.kind : e.resource.kind);
  return { snapshot, change: { snapshot, previous, events, kinds } };
}

/** Tells every listener about `change`; one that throws is logged and the others still hear it. */
export function announceChange(
  listeners: Iterable<ConfigListener>,
  change: ConfigChange,
  log: (message: string) => void,
): void {
  for (const l of [...listeners]) {
    try {
      l(change);
    } catch (err) {
      log(`config: a change listener failed: ${(err as Error).stack ?? String(err)}`);
    }
  }
}
