// EtcdStore: Istio config kept in etcd (one key per resource) as a watched, validated, writable ConfigStore.
import { Etcd3, isRecoverableError, type IKeyValue, type IWatchResponse, type Watcher } from 'etcd3';
import { ExponentialBackoff, circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { stringify } from 'yaml';
import { loadText } from '../../api/load.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../api/diagnostic.js';
import type { Resource } from '../../api/resource.js';
import { ConfigEventCounts } from '../config-events.js';
import { announceChange, buildSnapshot, nextSnapshot } from '../snapshot.js';
import type { ConfigListener, ConfigSnapshot, StoreStatus } from '../store.js';
import { refOf, type ResourceRef, type WritableConfigStore, type WriteOutcome } from '../writable-store.js';
import { EtcdKeys } from './etcd-keys.js';
import { keyStatus } from './key-status.js';
import { EtcdCaRootStore } from './etcd-ca-root.js';
import type { CaRootStore } from '../ca-root-store.js';

/** Options of an {@link EtcdStore}. */
export interface EtcdStoreOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379` (several: the client fails over between them). */
  readonly endpoints: readonly string[];
  /** Key prefix of this mesh's data (default `/mizzen/`); replicas of one control plane share it. */
  readonly prefix?: string;
  /** Namespace for resources that name none (default "default"). */
  readonly defaultNamespace?: string;
  /** How long {@link EtcdStore.start} waits for etcd to answer, ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /** Where rejected values and connection changes are reported (default: stderr). */
  readonly log?: (line: string) => void;
}

/** What the store knows about one key. */
export interface KeyState {
  /** etcd mod_revision of the value last read. */
  modRevision: string;
  text: string;
  /** The lease the key is attached to ('0' for none). */
  lease: string;
  /** Resources of the last good value (empty if it never loaded cleanly). */
  good: Resource[];
  diagnostics: Diagnostic[];
  rejected: boolean;
}

/** Longest wait between two attempts to re-establish the watch, ms (etcd3's default is 30 s). */
const WATCH_MAX_BACKOFF_MS = 2000;

/**
 * Serves the resources stored under `<prefix>config/` in etcd. The first `start()` lists them at one
 * revision and watches from the next, so no change is missed; a lost watch resumes from the last
 * revision seen, and a compacted one lists again. Every value is validated on its own like a file: a
 * bad value is rejected (logged once, shown by `status()`) and the previous good version of that key
 * keeps serving. Resources are served in key order, so every replica on the same etcd builds the same
 * snapshot.
 */
export class EtcdStore implements WritableConfigStore {
  readonly client: Etcd3;
  readonly keys: EtcdKeys;
  readonly description: string;
  private readonly entries = new Map<string, KeyState>();
  private readonly listeners = new Set<ConfigListener>();
  readonly eventCounts = new ConfigEventCounts();
  private current: ConfigSnapshot = buildSnapshot(0, []);
  private watcher: Watcher | null = null;
  private watchDown = false;
  private dirty = false;
  private closed = false;
  private relisting: Promise<void> | null = null;
  private readonly log: (line: string) => void;

  constructor(private readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints given');
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
    this.keys = new EtcdKeys(options.prefix);
    this.description = `etcd ${options.endpoints.join(',')} ${this.keys.prefix}`;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: options.connectTimeoutMs ?? 10_000,
      faultHandling: {
        // etcd3's defaults, except that a watch reconnects within 2 s of etcd coming back.
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 2000,
            breaker: new ConsecutiveBreaker(3),
          }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 3 }),
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: WATCH_MAX_BACKOFF_MS }).next(),
      },
    });
  }

  async start(): Promise<void> {
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const revision = await Promise.race([
      this.list(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`etcd did not answer within ${timeout} ms`)), timeout);
      }),
    ])
      .catch((err: Error) => {
        throw new Error(
          `cannot read config from ${this.description}: ${err.message} (is etcd running and reachable?)`,
        );
      })
      .finally(() => clearTimeout(timer));
    if (this.current.version === 0) this.current = buildSnapshot(1, this.current.resources);
    await this.watchFrom(revision);
  }

  snapshot(): ConfigSnapshot {
    return this.current;
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): StoreStatus {
    return keyStatus(this.entries);
  }

  /** The CA root storage shared by every replica on this etcd (`<prefix>ca/root`). */
  caRoot(): CaRootStore {
    return new EtcdCaRootStore(this.client, this.keys.caRoot);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const w = this.watcher;
    this.watcher = null;
    if (w) await w.cancel().catch(() => {});
    this.client.close();
  }

  async apply(resources: readonly Resource[]): Promise<WriteOutcome[]> {
    if (resources.length === 0) return [];
    const outcomes: WriteOutcome[] = [];
    const writes: Array<[string, string]> = [];
    for (const r of resources) {
      const ref = refOf(r);
      const key = this.keys.resource(ref);
      const prev = this.entries.get(key);
      const text = encodeResource(withCreationTimestamp(r, prev?.good[0]));
      if (prev && prev.text === text && !prev.rejected) {
        outcomes.push({ ref, action: 'unchanged' });
        continue;
      }
      writes.push([key, text]);
      outcomes.push({ ref, action: prev ? 'configured' : 'created' });
    }
    if (writes.length > 0) {
      // One transaction: every resource or none. The comparison always holds (a key's version is never negative).
      await this.client
        .if(writes[0][0], 'Version', '>', -1)
        .then(...writes.map(([key, text]) => this.client.put(key).value(text)))
        .commit();
    }
    return outcomes;
  }

  async delete(refs: readonly ResourceRef[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (const ref of refs) {
      const res = await this.client.delete().key(this.keys.resource(ref)).exec();
      outcomes.push({ ref, action: Number(res.deleted) > 0 ? 'deleted' : 'not found' });
    }
    return outcomes;
  }

  /** Lists every resource key at one revision, applies the differences; resolves with the revision. */
  private async list(): Promise<string> {
    const res = await this.client.getAll().prefix(this.keys.config).exec();
    const seen = new Set<string>();
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      seen.add(key);
      this.putKey(key, kv);
    }
    for (const key of [...this.entries.keys()]) if (!seen.has(key)) this.deleteKey(key);
    if (this.dirty || this.current.version === 0) this.rebuild();
    return res.header.revision;
  }

  /** Watches the config prefix from `revision` + 1; resolves once etcd confirmed the watch. */
  private async watchFrom(revision: string): Promise<void> {
    const w = this.client
      .watch()
      .prefix(this.keys.config)
      .startRevision(String(BigInt(revision) + 1n))
      .watcher();
    this.watcher = w;
    w.on('data', (res: IWatchResponse) => this.onWatchResponse(w, res));
    w.on('disconnected', (err: Error) => {
      if (this.watchDown || this.closed) return;
      this.watchDown = true;
      this.log(
        `config: lost the etcd watch (${err.message}); serving the last config (version ${this.current.version}) while reconnecting`,
      );
    });
    w.on('connected', () => {
      if (!this.watchDown) return;
      this.watchDown = false;
      this.log(`config: etcd watch resumed from revision ${w.lastRevision() ?? '?'}`);
    });
    // etcd cancels a watch whose revision was compacted away: list again and watch from there.
    w.on('error', (err: Error) => {
      if (w !== this.watcher || this.closed) return;
      this.log(`config: etcd watch cancelled (${err.message}); listing ${this.keys.config} again`);
      void this.relist();
    });
    await new Promise<void>((resolve) => w.once('connected', () => resolve()));
  }

  private relist(): Promise<void> {
    if (this.relisting) return this.relisting;
    this.relisting = (async () => {
      const old = this.watcher;
      this.watcher = null;
      await old?.cancel().catch(() => {});
      for (let delay = 100; !this.closed; delay = Math.min(delay * 2, WATCH_MAX_BACKOFF_MS)) {
        try {
          await this.watchFrom(await this.list());
          return;
        } catch (err) {
          this.log(`config: listing etcd failed (${(err as Error).message}); retrying in ${delay} ms`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => (this.relisting = null));
    return this.relisting;
  }

  private onWatchResponse(w: Watcher, res: IWatchResponse): void {
    if (w !== this.watcher) return;
    try {
      for (const ev of res.events) {
        const key = ev.kv.key.toString();
        if (ev.type === 'Put') this.putKey(key, ev.kv);
        else this.deleteKey(key);
      }
      if (this.dirty) this.rebuild();
    } catch (err) {
      this.log(`config: applying an etcd change failed: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private putKey(key: string, kv: IKeyValue): void {
    const prev = this.entries.get(key);
    const modRevision = String(kv.mod_revision);
    if (prev && prev.modRevision === modRevision) return;
    const text = kv.value.toString();
    const lease = String(kv.lease ?? '0');
    if (prev && prev.text === text) {
      prev.modRevision = modRevision;
      prev.lease = lease;
      return;
    }
    this.entries.set(key, this.load(key, text, modRevision, lease, prev));
    this.dirty = true;
  }

  private deleteKey(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  /** Validates one value like a file named `etcd:<key>`; it must hold the one resource its key names. */
  private load(
    key: string,
    text: string,
    modRevision: string,
    lease: string,
    prev: KeyState | undefined,
  ): KeyState {
    const file = `etcd:${key}`;
    const r = loadText(text, file, { defaultNamespace: this.options.defaultNamespace ?? 'default' });
    const diagnostics = [...r.diagnostics];
    const ref = this.keys.parse(key);
    if (!hasErrors(diagnostics)) {
      const problem = !ref
        ? `key ${key} is not of the form ${this.keys.config}<Kind>/<namespace>/<name>`
        : r.resources.length !== 1
          ? `key ${key} must hold exactly one resource, found ${r.resources.length}`
          : this.keys.resource(refOf(r.resources[0])) !== key
            ? `key ${key} holds ${r.resources[0].kind} ${r.resources[0].metadata.namespace ?? ''}/${r.resources[0].metadata.name}; store it at ${this.keys.resource(refOf(r.resources[0]))}`
            : null;
      if (problem)
        diagnostics.push({ severity: 'error', file, line: 1, col: 1, path: 'metadata', message: problem });
    }
    if (hasErrors(diagnostics)) {
      const kept = prev?.good ?? [];
      this.log(
        `config: rejected ${file} (${kept.length > 0 ? 'its previous version keeps serving' : 'nothing from it is served'}):\n` +
          diagnostics
            .filter((d) => d.severity === 'error')
            .map((d) => '  ' + formatDiagnostic(d))
            .join('\n'),
      );
      return { modRevision, text, lease, good: kept, diagnostics, rejected: true };
    }
    if (prev?.rejected) this.log(`config: ${file} is valid again`);
    return { modRevision, text, lease, good: r.resources, diagnostics, rejected: false };
  }

  private rebuild(): void {
    this.dirty = false;
    const resources: Resource[] = [];
    for (const key of [...this.entries.keys()].sort()) resources.push(...this.entries.get(key)!.good);
    const { snapshot, change } = nextSnapshot(this.current, resources, this.eventCounts);
    this.current = snapshot;
    if (change !== null) announceChange(this.listeners, change, (m) => this.log(m));
  }
}

/** The text stored for a resource: YAML, so diagnostics on a stored value point at a useful line. */
export function encodeResource(r: Resource): string {
  return stringify(r);
}

/** `r` with the creationTimestamp of the version it replaces, or now for a new resource (kubectl's server does the same). */
function withCreationTimestamp(r: Resource, prev: Resource | undefined): Resource {
  if (r.metadata.creationTimestamp) return r;
  const ts = prev?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { ...r, metadata: { ...r.metadata, creationTimestamp: ts } };
}
