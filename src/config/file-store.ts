// FileStore: a watched directory of YAML/JSON files as a ConfigStore, validated and applied per file.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadText } from '../api/load.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../api/diagnostic.js';
import { resourceKey, resourceName, sourceOf, type Resource } from '../api/resource.js';
import { buildSnapshot, diffResources } from './snapshot.js';
import type {
  ConfigChange,
  ConfigListener,
  ConfigSnapshot,
  ConfigStore,
  FileStatus,
  ResourceStatus,
  StoreStatus,
} from './store.js';

/** Options of a FileStore. */
export interface FileStoreOptions {
  /** How often the directory is scanned for changes, in milliseconds (default 250). */
  pollMs?: number;
  /** Namespace for resources that name none (default "default"). */
  defaultNamespace?: string;
  /** Where rejected files and other notices are reported (default: stderr). */
  log?: (line: string) => void;
}

/** What the store knows about one file. */
interface FileState {
  /** mtime (ms), size and inode when last read: a change in any means "read again". */
  stamp: string;
  text: string;
  /** Resources of the last good version (empty if the file never loaded cleanly). */
  good: Resource[];
  /** Diagnostics of the current text (errors when rejected). */
  diagnostics: Diagnostic[];
  rejected: boolean;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Serves the resources in a directory (recursively; hidden entries skipped) or a single file. Polls
 * file stamps every `pollMs` (fs.watch is not recursive on Linux with Node 20). A file with errors is
 * rejected as a whole: its previous good version keeps serving and its diagnostics are logged once
 * and shown by `status()`; other files apply. Each effective change yields a new snapshot version.
 */
export class FileStore implements ConfigStore {
  private readonly files = new Map<string, FileState>();
  private readonly listeners = new Set<ConfigListener>();
  private current: ConfigSnapshot = buildSnapshot(0, []);
  private duplicates: Diagnostic[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly pollMs: number;
  private readonly log: (line: string) => void;

  constructor(
    /** The watched directory or file. */
    readonly root: string,
    private readonly options: FileStoreOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  async start(): Promise<void> {
    this.scan();
    if (this.current.version === 0) this.current = buildSnapshot(1, this.current.resources);
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  snapshot(): ConfigSnapshot {
    return this.current;
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  /** Scans now (tests and `mizzen apply` call this to apply a write without waiting for the poll). */
  poll(): void {
    try {
      this.scan();
    } catch (err) {
      this.log(`config: scanning ${this.root} failed: ${(err as Error).message}`);
    }
  }

  status(): StoreStatus {
    const files: FileStatus[] = [];
    const resources: ResourceStatus[] = [];
    for (const [file, st] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const diags = st.diagnostics.concat(this.duplicates.filter((d) => d.file === file));
      const warned = diags.some((d) => d.severity === 'warning');
      files.push({
        file,
        state: st.rejected ? 'rejected' : warned ? 'warning' : 'ok',
        resources: st.good.length,
        diagnostics: diags,
      });
      const named = new Set<string>();
      for (const r of st.good) {
        const name = resourceName(r);
        named.add(name);
        const own = diags.filter((d) => d.resource === name);
        const src = sourceOf(r);
        resources.push({
          resource: name,
          kind: r.kind,
          namespace: r.metadata.namespace,
          name: r.metadata.name,
          state: own.some((d) => d.severity === 'error')
            ? 'rejected'
            : own.some((d) => d.severity === 'warning')
              ? 'warning'
              : 'ok',
          file,
          line: src?.line,
          diagnostics: own,
        });
      }
      // Documents with errors that are not (or no longer) served: show them as rejected on their own.
      const orphans = new Map<string, Diagnostic[]>();
      for (const d of diags) {
        if (d.severity !== 'error') continue;
        const key =
          d.resource && !named.has(d.resource) ? d.resource : d.resource ? null : `${file}:${d.line}`;
        if (key === null) continue;
        let l = orphans.get(key);
        if (!l) orphans.set(key, (l = []));
        l.push(d);
      }
      for (const [key, ds] of orphans)
        resources.push({ resource: key, state: 'rejected', file, line: ds[0].line, diagnostics: ds });
    }
    return { files, resources };
  }

  /** Reads changed files, then rebuilds the snapshot if anything effective changed. */
  private scan(): void {
    const present = new Set<string>();
    let touched = false;
    for (const file of this.list()) {
      present.add(file);
      let stamp: string;
      try {
        const st = statSync(file);
        stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        continue;
      }
      const prev = this.files.get(file);
      if (prev && prev.stamp === stamp) continue;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      if (prev && prev.text === text) {
        prev.stamp = stamp;
        continue;
      }
      this.files.set(file, this.load(file, stamp, text, prev));
      touched = true;
    }
    for (const file of [...this.files.keys()]) {
      if (!present.has(file)) {
        this.files.delete(file);
        touched = true;
      }
    }
    if (touched) this.rebuild();
  }

  private load(file: string, stamp: string, text: string, prev: FileState | undefined): FileState {
    const r = loadText(text, file, { defaultNamespace: this.options.defaultNamespace ?? 'default' });
    if (hasErrors(r.diagnostics)) {
      const kept = prev?.good ?? [];
      this.log(
        `config: rejected ${file} (${kept.length > 0 ? 'its previous version keeps serving' : 'nothing from it is served'}):\n` +
          r.diagnostics
            .filter((d) => d.severity === 'error')
            .map((d) => '  ' + formatDiagnostic(d))
            .join('\n'),
      );
      return { stamp, text, good: kept, diagnostics: r.diagnostics, rejected: true };
    }
    if (prev?.rejected) this.log(`config: ${file} is valid again`);
    return { stamp, text, good: r.resources, diagnostics: r.diagnostics, rejected: false };
  }

  private rebuild(): void {
    const merged = new Map<string, Resource>();
    const duplicates: Diagnostic[] = [];
    for (const file of [...this.files.keys()].sort()) {
      for (const r of this.files.get(file)!.good) {
        const key = resourceKey(r);
        const earlier = merged.get(key);
        if (earlier) {
          const src = sourceOf(r);
          duplicates.push({
            severity: 'warning',
            file,
            line: src?.line ?? 1,
            col: src?.col ?? 1,
            path: 'metadata.name',
            message: `${resourceName(r)} is also defined in ${sourceOf(earlier)?.file ?? 'another file'}; this definition wins`,
            code: 'MZ-DUPLICATE',
            resource: resourceName(r),
          });
          merged.delete(key);
        }
        merged.set(key, r);
      }
    }
    this.duplicates = duplicates;
    const resources = [...merged.values()];
    const previous = this.current;
    const events = diffResources(previous.resources, resources);
    if (events.length === 0 && previous.version > 0) return;
    const snapshot = buildSnapshot(previous.version + 1, resources);
    this.current = snapshot;
    if (previous.version === 0) return;
    const kinds = new Set<string>();
    for (const e of events) kinds.add(e.type === 'deleted' ? e.previous.kind : e.resource.kind);
    const change: ConfigChange = { snapshot, previous, events, kinds };
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.log(`config: a change listener failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  /** The config files under the root, sorted. */
  private list(): string[] {
    let st;
    try {
      st = statSync(this.root);
    } catch {
      return [];
    }
    if (!st.isDirectory()) return [this.root];
    const out: string[] = [];
    const walk = (dir: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const p = join(dir, name);
        let s;
        try {
          s = statSync(p);
        } catch {
          continue;
        }
        if (s.isDirectory()) walk(p);
        else if (EXTENSIONS.has(extname(name).toLowerCase())) out.push(p);
      }
    };
    walk(this.root);
    return out;
  }
}
