// The table of every kind Mizzen reads, keyed by apiVersion and kind.
import type { KindDef } from '../resource.js';

const byKey = new Map<string, KindDef>();
const byKind = new Map<string, KindDef>();

/** Adds kinds to the table (each kind module registers itself through kinds/index.ts). */
export function registerKinds(defs: readonly KindDef[]): void {
  for (const d of defs) {
    byKind.set(d.kind, d);
    for (const v of [...d.apiVersions, ...Object.keys(d.deprecatedApiVersions ?? {})])
      byKey.set(`${v}|${d.kind}`, d);
  }
}

/** The KindDef for an apiVersion + kind, if known. */
export function lookupKind(apiVersion: string, kind: string): KindDef | undefined {
  return byKey.get(`${apiVersion}|${kind}`);
}

/** The KindDef for a kind name regardless of version (for suggestions). */
export function kindByName(kind: string): KindDef | undefined {
  return byKind.get(kind);
}

/** Every known kind name. */
export function knownKinds(): string[] {
  return [...byKind.keys()].sort();
}
