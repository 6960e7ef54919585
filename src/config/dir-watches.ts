// DirWatches: one non-recursive fs.watch (inotify on Linux) per directory, events coalesced into batches.
import { watch as fsWatch, type FSWatcher } from 'node:fs';

/** One batch of events: directory → names of the entries that had events (null: anything in it may have). */
export type ChangedEntries = Map<string, Set<string> | null>;

/** The shape of `fs.watch` this module calls (a test can pass one that fails like an exhausted OS). */
export type WatchFn = (
  dir: string,
  options: { persistent: boolean },
  listener: (event: string, name: string | null) => void,
) => FSWatcher;

/** Options of DirWatches. */
export interface DirWatchesOptions {
  /** Quiet time after the latest event before the batch is delivered, ms. */
  debounceMs: number;
  /** A batch is delivered at the latest this long after its first event, ms, however long a burst lasts. */
  maxDelayMs: number;
  /** Receives each batch (never concurrently; exceptions are the receiver's to handle). */
  onChanges: (changed: ChangedEntries) => void;
  /**
   * Called once when the OS refuses a watch for a reason other than the directory being gone
   * (ENOSPC: inotify watch limit, EMFILE: inotify instance limit, ...). Every watch is closed first.
   */
  onFailure: (err: NodeJS.ErrnoException) => void;
  /** Default `fs.watch`. */
  watch?: WatchFn;
}

/**
 * Watches a set of directories, each on its own (Node's recursive watch is not inotify-based on every
 * platform and version). Events only say "look at entry X of directory D": the receiver decides what
 * changed by looking. After a failure it stays off: the owner falls back to polling.
 */
export class DirWatches {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending: ChangedEntries = new Map();
  private timer: NodeJS.Timeout | null = null;
  private firstEventAt = 0;
  private off = false;

  constructor(private readonly options: DirWatchesOptions) {}

  /** False after a failure or close(): nothing is watched any more. */
  get active(): boolean {
    return !this.off;
  }

  /** Number of directories watched. */
  get size(): number {
    return this.watchers.size;
  }

  /** Starts watching `dir` unless it is watched already. Returns whether it is watched now. */
  add(dir: string): boolean {
    if (this.off) return false;
    if (this.watchers.has(dir)) return true;
    let watcher: FSWatcher;
    try {
      watcher = (this.options.watch ?? fsWatch)(dir, { persistent: false }, (_event, name) =>
        this.note(dir, name),
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Gone (or replaced by a file) between listing and watching: the next look at its parent drops it.
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
      this.fail(e);
      return false;
    }
    // A watch that breaks (e.g. its directory vanished on some platforms) is dropped; its owner re-adds
    // it on the next look at that directory, if the directory is still there.
    watcher.on('error', () => {
      this.remove(dir);
      this.note(dir, null);
    });
    this.watchers.set(dir, watcher);
    return true;
  }

  /** Stops watching `dir` (no-op when not watched). */
  remove(dir: string): void {
    const w = this.watchers.get(dir);
    if (!w) return;
    this.watchers.delete(dir);
    w.close();
  }

  /** Stops every watch and drops pending events. */
  close(): void {
    this.off = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = new Map();
  }

  private fail(err: NodeJS.ErrnoException): void {
    this.close();
    this.options.onFailure(err);
  }

  private note(dir: string, name: string | null): void {
    if (this.off) return;
    const names = this.pending.get(dir);
    if (name === null || name === '') this.pending.set(dir, null);
    else if (names) names.add(name);
    else if (names === undefined) this.pending.set(dir, new Set([name]));
    const now = Date.now();
    if (!this.timer) {
      this.firstEventAt = now;
      this.timer = setTimeout(() => this.deliver(), this.options.debounceMs);
      this.timer.unref();
    } else if (now - this.firstEventAt + this.options.debounceMs <= this.options.maxDelayMs) {
      this.timer.refresh(); // trailing debounce: wait for the burst to end, up to maxDelayMs
    }
  }

  private deliver(): void {
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    if (!this.off && batch.size > 0) this.options.onChanges(batch);
  }
}
