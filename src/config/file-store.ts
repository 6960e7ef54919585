// FileStore: a watched directory of YAML/JSON files as a ConfigStore, validated and applied per file.
import { readFileSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { loadText } from '../api/load.js';
import { fileTooLarge, MAX_FILE_BYTES } from '../api/size-limits.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../api/diagnostic.js';
import { resourceKey, resourceName, sourceOf, type Resource } from '../api/resource.js';
import { DirWatches, type ChangedEntries, type WatchFn } from './dir-watches.js';
import { ConfigEventCounts } from './config-events.js';
import { announceChange, buildSnapshot, nextSnapshot } from './snapshot.js';
import type {
  ConfigListener,
  ConfigSnapshot,
  ConfigStore,
  FileStatus,
  ResourceStatus,
  StoreStatus,
} from './store.js';

/** Options of a FileStore. */
export interface FileStoreOptions {
  /**
   * The polling period: how often the whole tree is scanned, in milliseconds. Default 2000 while
   * directory watches work (the scan then only catches what fs.watch missed, e.g. on network file
   * systems) and 250 when they do not (`watch: false`, or the OS refused a watch). A value set here is
   * the period in both cases.
   */
  pollMs?: number;
  /**
   * Watch every directory of the tree with fs.watch (inotify on Linux), so a change applies within
   * about `debounceMs` (default true). False: poll only, every `pollMs` (default 250).
   */
  watch?: boolean;
  /** Quiet time after a watch event before the changed entries are read, in milliseconds (default 25). */
  debounceMs?: number;
  /** Namespace for resources that name none (default "default"). */
  defaultNamespace?: string;
  /** Where rejected files and other notices are reported (default: stderr). */
  log?: (line: string) => void;
  /** Replaces fs.watch (tests simulate an OS that refuses watches with it). */
  watchFn?: WatchFn;
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

/** What the store knows about one directory of the tree. */
interface DirState {
  /** Inode when last listed: a directory replaced by another of the same name needs a new watch. */
  ino: number;
  /** Config files directly in it (paths). */
  files: Set<string>;
  /** Subdirectories directly in it (paths). */
  dirs: Set<string>;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Default polling period when watches work / when they do not, ms. */
const RESCAN_MS = 2000;
const POLL_MS = 250;
/** A burst of events is read at the latest this many debounce periods after its first event. */
const MAX_DELAY_FACTOR = 8;

/**
 * Serves the resources in a directory (recursively; hidden entries skipped) or a single file. Every
 * directory is watched (fs.watch, non-recursive); an event makes the store read just the entries it
 * names, after a short debounce. A full scan every `pollMs` catches what watches miss; when the OS
 * refuses a watch the store says so once and polls instead. A file with errors is rejected as a
 * whole: its previous good version keeps serving and its diagnostics are logged once and shown by
 * `status()`; other files apply. Each effective change yields a new snapshot version.
 */
export class FileStore implements ConfigStore {
  private readonly files = new Map<string, FileState>();
  private readonly dirs = new Map<string, DirState>();
  private readonly listeners = new Set<ConfigListener>();
  readonly eventCounts = new ConfigEventCounts();
  private current: ConfigSnapshot = buildSnapshot(0, []);
  private duplicates: Diagnostic[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** null: polling only (disabled, failed or closed). */
  private watches: DirWatches | null;
  /** Set when a file's resources changed since the last rebuild. */
  private dirty = false;
  private readonly log: (line: string) => void;

  constructor(
    /** The watched directory or file. */
    readonly root: string,
    private readonly options: FileStoreOptions = {},
  ) {
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
    const debounceMs = options.debounceMs ?? 25;
    this.watches =
      options.watch === false
        ? null
        : new DirWatches({
            debounceMs,
            maxDelayMs: debounceMs * MAX_DELAY_FACTOR,
            onChanges: (changed) => this.onWatchEvents(changed),
            onFailure: (err) => this.fallBackToPolling(err),
            watch: options.watchFn,
          });
  }

  /** The current polling period, ms (see FileStoreOptions.pollMs). */
  get pollMs(): number {
    return this.options.pollMs ?? (this.watches ? RESCAN_MS : POLL_MS);
  }

  /** Whether directory watches are in use (false when disabled or after the OS refused one). */
  get watching(): boolean {
    return this.watches !== null;
  }

  async start(): Promise<void> {
    this.scan();
    if (this.current.version === 0) this.current = buildSnapshot(1, this.current.resources);
    this.startTimer();
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
    this.watches?.close();
    this.watches = null;
    this.listeners.clear();
  }

  /** Scans the whole tree now (applies a write without waiting for a watch event or the poll). */
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

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  /** The OS refused a watch: say so once, poll from now on (the timer restarts at the polling period). */
  private fallBackToPolling(err: NodeJS.ErrnoException): void {
    this.watches = null;
    this.log(
      `config: cannot watch ${this.root} for changes (${err.code ?? err.message}); scanning it every ${this.pollMs} ms instead`,
    );
    if (this.timer) this.startTimer();
  }

  /** Reads the entries the watches named, then rebuilds the snapshot if anything effective changed. */
  private onWatchEvents(changed: ChangedEntries): void {
    try {
      let rootChanged = false;
      for (const [dir, names] of changed) {
        if (dir === dirname(this.root) && (names === null || names.has(basename(this.root))))
          rootChanged = true;
        if (!this.dirs.has(dir)) continue; // the root's parent, or a directory dropped meanwhile
        if (names === null) this.syncDir(dir, false);
        else for (const name of names) this.syncEntry(dir, name);
      }
      if (rootChanged) this.scanRoot(false);
      if (this.dirty) this.rebuild();
    } catch (err) {
      this.log(`config: reading changes under ${this.root} failed: ${(err as Error).message}`);
    }
  }

  /** Reads every changed file of the tree, then rebuilds the snapshot if anything effective changed. */
  private scan(): void {
    this.scanRoot(true);
    if (this.dirty) this.rebuild();
  }

  /** Reads the root: a file, or a directory (`deep`: every directory under it is listed again). */
  private scanRoot(deep: boolean): void {
    // The root's parent is watched too, so a root created, replaced or turned from a file into a
    // directory (or back) is seen at once.
    this.watches?.add(dirname(this.root));
    const st = statOrNull(this.root);
    if (st?.isDirectory()) {
      this.dropFile(this.root);
      this.syncDir(this.root, deep);
    } else {
      this.dropDir(this.root);
      if (st?.isFile()) this.syncFile(this.root, st);
      else this.dropFile(this.root);
    }
  }

  /**
   * Lists `dir` and reads its changed config files; walks subdirectories it did not know (all of them
   * when `deep`). Watches it first, so nothing created while it is being listed goes unseen.
   */
  private syncDir(dir: string, deep: boolean): void {
    const st = statOrNull(dir);
    if (!st?.isDirectory()) return this.dropDir(dir);
    let state = this.dirs.get(dir);
    // A directory replaced by another of the same name: the old watches follow the old directories.
    if (state && state.ino !== st.ino) this.dropDir(dir);
    state = this.dirs.get(dir);
    if (!state) this.dirs.set(dir, (state = { ino: st.ino, files: new Set(), dirs: new Set() }));
    this.watches?.add(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return this.dropDir(dir);
    }
    const files = new Set<string>();
    const dirs = new Set<string>();
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      const kind = kindOf(e, path);
      if (kind === 'dir') {
        dirs.add(path);
        if (deep || !this.dirs.has(path)) this.syncDir(path, deep);
      } else if (kind === 'file' && isConfigFile(e.name)) {
        files.add(path);
        this.syncFile(path);
      }
    }
    for (const f of state.files) if (!files.has(f)) this.dropFile(f);
    for (const d of state.dirs) if (!dirs.has(d)) this.dropDir(d);
    state.files = files;
    state.dirs = dirs;
  }

  /** Looks at one entry of a known directory after a watch event named it. */
  private syncEntry(dir: string, name: string): void {
    const parent = this.dirs.get(dir);
    if (!parent || name.startsWith('.')) return;
    const path = join(dir, name);
    const st = statOrNull(path);
    if (st?.isDirectory()) {
      if (parent.files.delete(path)) this.dropFile(path);
      parent.dirs.add(path);
      this.syncDir(path, false);
    } else if (st?.isFile() && isConfigFile(name)) {
      if (parent.dirs.delete(path)) this.dropDir(path);
      parent.files.add(path);
      this.syncFile(path, st);
    } else {
      if (parent.files.delete(path)) this.dropFile(path);
      if (parent.dirs.delete(path)) this.dropDir(path);
    }
  }

  /** Reads `file` again if its stamp changed, and loads it if its text did. */
  private syncFile(file: string, known?: Stats): void {
    const st = known ?? statOrNull(file);
    if (!st) return; // vanished since it was listed: the next look at its directory drops it
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    const prev = this.files.get(file);
    if (prev && prev.stamp === stamp) return;
    if (st.size > MAX_FILE_BYTES) {
      // Refused unread: its previous version (if any) keeps serving.
      this.files.set(file, this.reject(file, stamp, '', [fileTooLarge(file, st.size)], prev));
      this.dirty = true;
      return;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    if (prev && prev.text === text) {
      prev.stamp = stamp;
      return;
    }
    this.files.set(file, this.load(file, stamp, text, prev));
    this.dirty = true;
  }

  private dropFile(file: string): void {
    if (this.files.delete(file)) this.dirty = true;
  }

  /** Forgets a directory and everything under it, and stops watching them. */
  private dropDir(dir: string): void {
    const state = this.dirs.get(dir);
    if (!state) return;
    this.dirs.delete(dir);
    this.watches?.remove(dir);
    for (const f of state.files) this.dropFile(f);
    for (const d of state.dirs) this.dropDir(d);
  }

  private load(file: string, stamp: string, text: string, prev: FileState | undefined): FileState {
    const r = loadText(text, file, { defaultNamespace: this.options.defaultNamespace ?? 'default' });
    if (hasErrors(r.diagnostics)) return this.reject(file, stamp, text, r.diagnostics, prev);
    if (prev?.rejected) this.log(`config: ${file} is valid again`);
    const warnings = r.diagnostics.filter((d) => d.severity === 'warning');
    // Accepted with warnings (e.g. a Telemetry field Mizzen does not enforce): said once per version.
    if (warnings.length > 0 && prev?.text !== text)
      this.log(
        `config: ${file} has warnings:\n` + warnings.map((d) => '  ' + formatDiagnostic(d)).join('\n'),
      );
    return { stamp, text, good: r.resources, diagnostics: r.diagnostics, rejected: false };
  }

  /** Logs why `file` was rejected; its previous good resources keep serving. */
  private reject(
    file: string,
    stamp: string,
    text: string,
    diagnostics: Diagnostic[],
    prev: FileState | undefined,
  ): FileState {
    const kept = prev?.good ?? [];
    this.log(
      `config: rejected ${file} (${kept.length > 0 ? 'its previous version keeps serving' : 'nothing from it is served'}):\n` +
        diagnostics
          .filter((d) => d.severity === 'error')
          .map((d) => '  ' + formatDiagnostic(d))
          .join('\n'),
    );
    return { stamp, text, good: kept, diagnostics, rejected: true };
  }

  private rebuild(): void {
    this.dirty = false;
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
    const { snapshot, change } = nextSnapshot(this.current, resources, this.eventCounts);
    this.current = snapshot;
    if (change !== null) announceChange(this.listeners, change, (m) => this.log(m));
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function isConfigFile(name: string): boolean {
  return EXTENSIONS.has(extname(name).toLowerCase());
}

/** A directory entry's type, following symbolic links (and file systems that do not report types). */
function kindOf(e: Dirent, path: string): 'dir' | 'file' | null {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (!e.isSymbolicLink() && !isUnknownType(e)) return null;
  const st = statOrNull(path);
  return st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : null;
}

function isUnknownType(e: Dirent): boolean {
  return !e.isBlockDevice() && !e.isCharacterDevice() && !e.isFIFO() && !e.isSocket();
}
