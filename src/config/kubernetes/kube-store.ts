// KubernetesStore: Istio config and the mesh's Kubernetes objects from the API server, watched with client-node informers.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import { formatDiagnostic, type Diagnostic } from '../../api/diagnostic.js';
import type { Resource } from '../../api/resource.js';
import { ConfigEventCounts } from '../config-events.js';
import { announceChange, buildSnapshot, nextSnapshot } from '../snapshot.js';
import type { ConfigListener, ConfigSnapshot, ConfigStore, StoreStatus } from '../store.js';
import { keyStatus } from '../etcd/key-status.js';
import { ApiError, apiRequest, statusMessage } from './api-request.js';
import { loadObject, objectKey, type KubeObject } from './kube-object.js';
import { istioStatusOf } from './istio-status.js';
import { StatusWriter } from './status-writer.js';
import { watchedKinds, type WatchedKind } from './watched-kinds.js';

/** Options of a {@link KubernetesStore}. */
export interface KubernetesStoreOptions {
  /** The cluster and credentials (in-cluster config or a kubeconfig file). */
  readonly kubeConfig: KubeConfig;
  /** What to watch (default: {@link watchedKinds}). */
  readonly kinds?: readonly WatchedKind[];
  /** How long {@link KubernetesStore.start} waits for every first list, ms (default 10000). */
  readonly startTimeoutMs?: number;
  /** Write validation results to Istio resources' `status` (default true). */
  readonly writeStatus?: boolean;
  /** First wait before restarting a failed watch, ms (doubles up to 30 s; default 1000). */
  readonly retryMs?: number;
  /** Where rejected objects and watch trouble are reported (default: stderr). */
  readonly log?: (line: string) => void;
}

/** What the store knows about one API object. */
interface ObjectState {
  readonly kind: WatchedKind;
  /** The object as last served by the API (its status is compared before writing one). */
  raw: KubeObject;
  text: string;
  /** Resources of the last good version (empty if it never validated). */
  good: Resource[];
  diagnostics: Diagnostic[];
  rejected: boolean;
}

/** One informer and its retry state. */
interface Watched {
  readonly kind: WatchedKind;
  readonly informer: ListWatch<KubeObject & { metadata: object }>;
  listed: boolean;
  lastError: unknown;
  retryMs: number;
  timer: NodeJS.Timeout | null;
}

const MAX_RETRY_MS = 30_000;

/**
 * Serves what the API server holds, through one @kubernetes/client-node ListWatch informer per watched
 * resource: list, then watch from the list's resourceVersion with bookmarks; a watch that expires
 * (410 Gone) lists again, and objects that vanished meanwhile are deleted, so nothing is lost or kept
 * stale. Every object is validated on its own by the config API: an invalid one is rejected (logged
 * with kind, namespace, name and field, and written to its `status` for Istio kinds) while its last
 * good version keeps serving. A watch that fails is restarted with backoff; meanwhile the last
 * snapshot keeps serving. Read-only: config is written with kubectl.
 */
export class KubernetesStore implements ConfigStore {
  readonly description: string;
  private readonly objects = new Map<string, ObjectState>();
  private readonly listeners = new Set<ConfigListener>();
  readonly eventCounts = new ConfigEventCounts();
  private readonly watched: Watched[] = [];
  private readonly status$: StatusWriter | null;
  private current: ConfigSnapshot = buildSnapshot(0, []);
  private started = false;
  private closed = false;
  private dirty = false;
  private scheduled: NodeJS.Immediate | null = null;
  private readonly log: (line: string) => void;

  constructor(private readonly options: KubernetesStoreOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
    const server = options.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('kubernetes: the kubeconfig names no current cluster');
    this.description = `kubernetes ${server}`;
    this.status$ = options.writeStatus === false ? null : new StatusWriter(options.kubeConfig, this.log);
    for (const kind of options.kinds ?? watchedKinds()) this.watched.push(this.makeInformer(kind));
  }

  /** Status writes the API accepted so far. */
  get statusWrites(): number {
    return this.status$?.writes ?? 0;
  }

  async start(): Promise<void> {
    const timeout = this.options.startTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(this.watched.map((w) => w.informer.start())),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the API server did not answer within ${timeout} ms`)),
            timeout,
          );
        }),
      ]);
    } catch (err) {
      await this.close();
      throw new Error(`cannot read config from ${this.description}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const fatal = this.watched.find((w) => !w.listed && !this.isMissingCrd(w));
    if (fatal) {
      await this.close();
      throw new Error(
        `cannot read config from ${this.description}: listing ${fatal.kind.path} failed: ${errorText(fatal.lastError)}`,
      );
    }
    this.started = true;
    for (const w of this.watched) if (!w.listed) this.retry(w);
    this.rebuild();
    if (this.current.version === 0) this.current = buildSnapshot(1, this.current.resources);
  }

  snapshot(): ConfigSnapshot {
    return this.current;
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): StoreStatus {
    return keyStatus(this.objects, (key) => `kubernetes:${key}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.status$?.close();
    for (const w of this.watched) {
      if (w.timer) clearTimeout(w.timer);
      await w.informer.stop().catch(() => {});
    }
  }

  private makeInformer(kind: WatchedKind): Watched {
    const kc = this.options.kubeConfig;
    const w: Watched = {
      kind,
      informer: null as unknown as Watched['informer'],
      listed: false,
      lastError: null,
      retryMs: this.options.retryMs ?? 1000,
      timer: null,
    };
    const list = async (): Promise<KubernetesListObject<KubeObject & { metadata: object }>> => {
      const q = kind.fieldSelector ? `?fieldSelector=${encodeURIComponent(kind.fieldSelector)}` : '';
      const res = await apiRequest(kc, 'GET', kind.path + q);
      // A list that was in flight when the store closed: client-node's ListWatch would go on to open
      // a watch after stop(); failing here ends it (onError ignores errors once closed).
      if (this.closed) throw new Error('the config store is closed');
      if (res.status !== 200) throw new ApiError(statusMessage(res), res.status);
      const body = res.body as KubernetesListObject<KubeObject & { metadata: object }>;
      if (w.listed)
        this.log(
          `config: listed ${kind.plural} again at resourceVersion ${body.metadata?.resourceVersion ?? '?'} (the watch's resourceVersion had expired: 410 Gone)`,
        );
      w.listed = true;
      w.lastError = null;
      w.retryMs = this.options.retryMs ?? 1000;
      return { ...body, items: body.items ?? [] };
    };
    // Bookmarks keep the resourceVersion fresh on quiet resources, so a reconnect rarely needs a re-list.
    const informer = new ListWatch<KubeObject & { metadata: object }>(
      `${kind.path}?allowWatchBookmarks=true`,
      new Watch(kc),
      list,
      false,
      undefined,
      kind.fieldSelector,
    );
    informer.on('add', (obj) => this.put(kind, obj));
    informer.on('update', (obj) => this.put(kind, obj));
    informer.on('delete', (obj) => this.remove(kind, obj));
    informer.on('error', (err) => this.onError(w, err));
    (w as { informer: Watched['informer'] }).informer = informer;
    return w;
  }

  private isMissingCrd(w: Watched): boolean {
    return w.kind.istio && (w.lastError as { statusCode?: number } | null)?.statusCode === 404;
  }

  private onError(w: Watched, err: unknown): void {
    w.lastError = err;
    if (!this.started || this.closed) return;
    this.retry(w);
  }

  /** Restarts a stopped informer after a backoff; it resumes from its resourceVersion (or lists). */
  private retry(w: Watched): void {
    if (w.timer || this.closed) return;
    const what = this.isMissingCrd(w)
      ? `WARNING: the API server does not serve ${w.kind.path} (is the ${w.kind.plural} CRD installed? \`mizzen install\` prints it); no ${w.kind.kind} is read until it is`
      : `watching ${w.kind.path} failed (${errorText(w.lastError)}); serving the last config (version ${this.current.version})`;
    this.log(`config: ${what}; retrying in ${w.retryMs} ms`);
    w.timer = setTimeout(() => {
      w.timer = null;
      if (this.closed) return;
      void w.informer.start();
    }, w.retryMs);
    w.retryMs = Math.min(w.retryMs * 2, MAX_RETRY_MS);
  }

  private put(kind: WatchedKind, obj: KubeObject): void {
    const key = objectKey(kind, obj);
    const prev = this.objects.get(key);
    const loaded = loadObject(kind, obj);
    if (prev && prev.text === loaded.text) {
      prev.raw = obj;
      this.offerStatus(prev);
      return;
    }
    const file = loaded.file;
    let state: ObjectState;
    if (!loaded.resource) {
      const kept = prev?.good ?? [];
      this.log(
        `config: rejected ${kind.kind} ${obj.metadata?.namespace ? obj.metadata.namespace + '/' : ''}${obj.metadata?.name ?? ''} (${kept.length > 0 ? 'its previous version keeps serving' : 'nothing from it is served'}):\n` +
          loaded.diagnostics
            .filter((d) => d.severity === 'error')
            .map((d) => '  ' + formatDiagnostic(d))
            .join('\n'),
      );
      state = {
        kind,
        raw: obj,
        text: loaded.text,
        good: kept,
        diagnostics: loaded.diagnostics,
        rejected: true,
      };
    } else {
      if (prev?.rejected) this.log(`config: ${file} is valid again`);
      state = {
        kind,
        raw: obj,
        text: loaded.text,
        good: [loaded.resource],
        diagnostics: loaded.diagnostics,
        rejected: false,
      };
    }
    this.objects.set(key, state);
    this.changed();
  }

  private remove(kind: WatchedKind, obj: KubeObject): void {
    if (this.objects.delete(objectKey(kind, obj))) this.changed();
    this.status$?.forget(kind, obj);
  }

  /** Coalesces the events of one burst (a list, a re-list) into one new snapshot. */
  private changed(): void {
    this.dirty = true;
    if (!this.started || this.scheduled || this.closed) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.rebuild();
    });
  }

  private offerStatus(st: ObjectState): void {
    if (!this.status$ || !st.kind.istio || !this.started) return;
    this.status$.offer(
      st.kind,
      st.raw,
      istioStatusOf(st.diagnostics, st.rejected, st.raw.metadata?.generation),
    );
  }

  private rebuild(): void {
    if (this.closed) return;
    const wasDirty = this.dirty;
    this.dirty = false;
    for (const st of this.objects.values()) this.offerStatus(st);
    if (!wasDirty && this.current.version > 0) return;
    const resources: Resource[] = [];
    for (const key of [...this.objects.keys()].sort()) resources.push(...this.objects.get(key)!.good);
    const { snapshot, change } = nextSnapshot(this.current, resources, this.eventCounts);
    this.current = snapshot;
    if (change !== null) announceChange(this.listeners, change, (m) => this.log(m));
  }
}

function errorText(err: unknown): string {
  if (!err) return 'unknown error';
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
