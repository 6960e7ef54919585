// exportTo: which namespaces may see a service or config.

/** Parses an exportTo list written in namespace `ns`: absent/empty = `*`, `.` = `ns`, `~` = nobody. */
export function parseExportTo(list: readonly string[] | undefined, ns: string): ReadonlySet<string> {
  if (!list || list.length === 0) return ALL;
  const out = new Set<string>();
  for (const raw of list) {
    const v = raw.trim();
    if (v === '*') return ALL;
    if (v === '.') out.add(ns);
    else if (v !== '~' && v !== '') out.add(v);
  }
  return out;
}

/** True when something exported to `set` is visible from namespace `ns`. */
export function visibleFrom(set: ReadonlySet<string>, ns: string): boolean {
  return set.has('*') || set.has(ns);
}

const ALL: ReadonlySet<string> = new Set(['*']);
