// Test util: a Kubernetes API server fake on 127.0.0.1 (HTTPS) speaking the real list/watch JSON (resourceVersion, bookmarks, 410 Gone).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluralOf } from '../../local/kind-names.js';

/** A JSON object as the API serves it. */
export type ApiObject = Record<string, any>;

/** A request the fake received. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly contentType: string;
  readonly authorization: string;
  readonly body: string;
}

interface Event {
  readonly rv: number;
  readonly collection: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: ApiObject;
}

interface Watcher {
  readonly collection: string;
  readonly namespace: string | null;
  readonly fieldName: string | null;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  doomed: boolean;
}

/** `/api/v1` or `/apis/<group>/<version>` + `/<plural>`: the key of one collection. */
function collectionOf(apiVersion: string, kind: string): string {
  return `${apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`}/${pluralOf(kind)}`;
}

/** Built-in kinds' list items carry no apiVersion/kind (the List has them); custom resources' items do. */
function isCustom(apiVersion: string): boolean {
  return apiVersion.split('/')[0].endsWith('istio.io');
}

/** Parses a request path into collection, namespace, name and subresource. */
function parsePath(
  path: string,
): { collection: string; namespace: string | null; name: string | null; sub: string | null } | null {
  const m =
    /^\/api\/(v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+)(?:\/(status))?)?$/.exec(path) ??
    /^\/apis\/([^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+)(?:\/(status))?)?$/.exec(path);
  if (!m) return null;
  const prefix = m[1] === 'v1' && path.startsWith('/api/') ? '/api/v1' : `/apis/${m[1]}`;
  return { collection: `${prefix}/${m[3]}`, namespace: m[2] ?? null, name: m[4] ?? null, sub: m[5] ?? null };
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: ApiObject = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The API server's list/watch protocol over real HTTP, for the resources a test puts in it:
 * lists answer `{kind: XList, metadata: {resourceVersion}, items}`; `?watch=true&resourceVersion=N`
 * streams newline-delimited `{type, object}` events after N (ADDED, MODIFIED, DELETED, and BOOKMARK when
 * `allowWatchBookmarks=true`); a watch from a compacted resourceVersion gets an ERROR event with a
 * 410 Status ("too old resource version") and ends; PATCH of `/status` applies a merge patch. Every
 * change gets the next resourceVersion of one counter, as etcd's revision.
 */
export class FakeApiServer {
  readonly requests: SeenRequest[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private ca = '';
  private readonly objects = new Map<string, Map<string, ApiObject>>();
  private readonly history: Event[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly served = new Map<string, [apiVersion: string, kind: string]>();
  private readonly tokens = new Map<
    string,
    { namespace: string; serviceAccount: string; pod: string; audiences: string[] }
  >();
  private rv = 1000;
  private compactedRv = 0;
  private uid = 0;
  url = '';

  constructor(private readonly token = 'fake-token') {}

  /**
   * Listens over HTTPS on 127.0.0.1:0 with a certificate openssl makes in `dir` (its CA goes into the
   * kubeconfig, as a cluster's does); `kinds` are the collections served (others answer 404, like a
   * missing CRD).
   */
  async start(kinds: ReadonlyArray<{ apiVersion: string; kind: string }>, dir: string): Promise<this> {
    for (const k of kinds) this.serve(k.apiVersion, k.kind);
    const cert = join(dir, 'apiserver.crt');
    const key = join(dir, 'apiserver.key');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key]
        .concat(['-out', cert, '-days', '1', '-subj', '/CN=kube-apiserver'])
        .concat(['-addext', 'subjectAltName=DNS:kubernetes.default.svc,IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    this.ca = readFileSync(cert, 'utf8');
    const server = createServer({ cert: this.ca, key: readFileSync(key) }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => this.handle(req, res, body));
    });
    this.server = server;
    // Every TCP connection, also one still in its TLS handshake (closeAllConnections does not see those).
    server.on('connection', (sock: Socket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** The PEM certificate the server presents (a kubeconfig's certificate-authority-data). */
  get caPem(): string {
    return this.ca;
  }

  /** Starts serving one more collection (a CRD being installed). */
  serve(apiVersion: string, kind: string): void {
    const c = collectionOf(apiVersion, kind);
    this.served.set(c, [apiVersion, kind]);
    if (!this.objects.has(c)) this.objects.set(c, new Map());
  }

  /** Writes a kubeconfig pointing at this server (its CA, a bearer token); returns its path. */
  writeKubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: fake, cluster: { server: "${this.url}", certificate-authority-data: ${Buffer.from(this.ca).toString('base64')} } }]`,
        `users: [{ name: mizzen, user: { token: ${this.token} } }]`,
        'contexts: [{ name: fake, context: { cluster: fake, user: mizzen } }]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Makes `token` a service account's token for `audiences` (what TokenReview answers). */
  addToken(
    token: string,
    namespace: string,
    serviceAccount: string,
    pod = '',
    audiences = ['istio-ca'],
  ): void {
    this.tokens.set(token, { namespace, serviceAccount, pod, audiences });
  }

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** Creates or replaces an object (ADDED / MODIFIED); `generation` moves when anything but status changes. */
  apply(input: ApiObject): ApiObject {
    const c = collectionOf(input.apiVersion, input.kind);
    const items = this.objects.get(c);
    if (!items) throw new Error(`fake API server: ${c} is not served`);
    const key = `${input.metadata.namespace ?? ''}/${input.metadata.name}`;
    const prev = items.get(key);
    const { status: _s, ...spec } = input;
    const { status: _p, ...prevSpec } = prev ?? {};
    const sameSpec =
      prev !== undefined &&
      JSON.stringify({ ...spec, metadata: {} }) === JSON.stringify({ ...prevSpec, metadata: {} });
    const obj: ApiObject = {
      ...input,
      ...(prev?.status !== undefined && isCustom(input.apiVersion) && input.status === undefined
        ? { status: prev.status }
        : {}),
      metadata: {
        ...input.metadata,
        uid: prev?.metadata.uid ?? `uid-${++this.uid}`,
        creationTimestamp: prev?.metadata.creationTimestamp ?? '2026-12-06T10:00:00Z',
        resourceVersion: String(++this.rv),
        ...(isCustom(input.apiVersion)
          ? { generation: prev ? prev.metadata.generation + (sameSpec ? 0 : 1) : 1 }
          : {}),
      },
    };
    items.set(key, obj);
    this.emit(c, prev ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  /** Deletes an object (DELETED); false when absent. */
  delete(apiVersion: string, kind: string, namespace: string, name: string): boolean {
    const c = collectionOf(apiVersion, kind);
    const items = this.objects.get(c)!;
    const prev = items.get(`${namespace}/${name}`);
    if (!prev) return false;
    items.delete(`${namespace}/${name}`);
    this.emit(c, 'DELETED', { ...prev, metadata: { ...prev.metadata, resourceVersion: String(++this.rv) } });
    return true;
  }

  /** The stored object, or undefined. */
  get(apiVersion: string, kind: string, namespace: string, name: string): ApiObject | undefined {
    return this.objects.get(collectionOf(apiVersion, kind))?.get(`${namespace}/${name}`);
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that allowed bookmarks. */
  bookmark(): void {
    for (const w of this.watchers)
      if (w.bookmarks && !w.doomed) {
        const [apiVersion, kind] = this.kindOf(w.collection);
        this.send(w, {
          type: 'BOOKMARK',
          object: { apiVersion, kind, metadata: { resourceVersion: String(this.rv) } },
        });
      }
  }

  /** Ends every watch stream normally (as the API server does at the watch's timeout). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /**
   * Compacts history: changes made by `meanwhile` reach no open watch; then every open watch gets an
   * ERROR event with a 410 Status and ends, and resuming from any resourceVersion before now gets the
   * same. Only a new list can see what changed.
   */
  expire(meanwhile: () => void = () => {}): void {
    for (const w of this.watchers) w.doomed = true;
    meanwhile();
    this.compactedRv = this.rv + 1;
    for (const w of this.watchers) {
      this.send(w, { type: 'ERROR', object: this.gone(0) });
      w.res.end();
    }
    this.watchers.clear();
  }

  /** Watch requests received, in order. */
  watchRequests(): SeenRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && r.query.get('watch') === 'true');
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    const server = this.server;
    if (!server) return;
    // Stop accepting, then drop every connection, handshakes included: a client's list that was in
    // flight when it stopped still opens a watch (client-node's ListWatch does), which would keep
    // close() waiting forever.
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private kindOf(collection: string): [string, string] {
    return this.served.get(collection)!;
  }

  private gone(requested: number): ApiObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${requested} (${this.compactedRv})`,
      reason: 'Expired',
      code: 410,
    };
  }

  private emit(collection: string, type: Event['type'], object: ApiObject): void {
    const ev: Event = { rv: this.rv, collection, type, object };
    this.history.push(ev);
    for (const w of this.watchers) if (this.matches(w, ev) && !w.doomed) this.send(w, { type, object });
  }

  private matches(w: Watcher, ev: Event): boolean {
    return (
      w.collection === ev.collection &&
      (w.namespace === null || ev.object.metadata.namespace === w.namespace) &&
      (w.fieldName === null || ev.object.metadata.name === w.fieldName)
    );
  }

  private send(w: Watcher, event: ApiObject): void {
    w.res.write(JSON.stringify(event) + '\n');
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason,
        code,
      }),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'] ?? '',
      authorization: req.headers.authorization ?? '',
      body,
    };
    this.requests.push(seen);
    if (seen.authorization !== `Bearer ${this.token}`)
      return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews')
      return this.tokenReview(res, body);
    const p = parsePath(url.pathname);
    if (!p || !this.served.has(p.collection))
      return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (req.method === 'PATCH' && p.name && p.sub === 'status') return this.patchStatus(res, p, seen);
    if (req.method === 'POST' && !p.name && p.namespace)
      return this.create(res, p.collection, p.namespace, body);
    if (req.method === 'GET' && p.name && !p.sub) return this.getOne(res, p.collection, p.namespace, p.name);
    if (req.method !== 'GET' || p.name)
      return this.status(
        res,
        405,
        'MethodNotAllowed',
        `${req.method} ${url.pathname} is not served by the fake`,
      );
    const field = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
    const filter = { namespace: p.namespace, fieldName: field ? field[1] : null };
    if (url.searchParams.get('watch') === 'true')
      return this.watch(res, p.collection, filter, url.searchParams);
    this.list(res, p.collection, filter);
  }

  private list(
    res: ServerResponse,
    collection: string,
    filter: { namespace: string | null; fieldName: string | null },
  ): void {
    const items = [...this.objects.get(collection)!.values()]
      .filter((o) => filter.namespace === null || o.metadata.namespace === filter.namespace)
      .filter((o) => filter.fieldName === null || o.metadata.name === filter.fieldName)
      .map((o) => (isCustom(o.apiVersion) ? o : (({ apiVersion: _a, kind: _k, ...rest }) => rest)(o)));
    const [apiVersion, kind] = this.kindOf(collection);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: `${kind}List`,
        apiVersion,
        metadata: { resourceVersion: String(this.rv) },
        items,
      }),
    );
  }

  private watch(
    res: ServerResponse,
    collection: string,
    filter: { namespace: string | null; fieldName: string | null },
    q: URLSearchParams,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = {
      collection,
      namespace: filter.namespace,
      fieldName: filter.fieldName,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      res,
      doomed: false,
    };
    const from = q.get('resourceVersion');
    if (from && from !== '0') {
      const n = Number(from);
      if (n < this.compactedRv) {
        this.send(w, { type: 'ERROR', object: this.gone(n) });
        res.end();
        return;
      }
      for (const ev of this.history)
        if (ev.rv > n && this.matches(w, ev)) this.send(w, { type: ev.type, object: ev.object });
    } else {
      for (const o of this.objects.get(collection)!.values())
        if (this.matches(w, { rv: 0, collection, type: 'ADDED', object: o }))
          this.send(w, { type: 'ADDED', object: o });
    }
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }

  /** TokenReview: tokens given to {@link addToken}, for the audiences asked for (as the API server answers). */
  private tokenReview(res: ServerResponse, body: string): void {
    const review = JSON.parse(body) as ApiObject;
    const t = this.tokens.get(String(review.spec?.token ?? ''));
    const wanted: string[] = review.spec?.audiences ?? [];
    const audiences = t ? t.audiences.filter((a) => wanted.length === 0 || wanted.includes(a)) : [];
    const status =
      t && audiences.length > 0
        ? {
            authenticated: true,
            user: {
              username: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${t.namespace}`],
              ...(t.pod ? { extra: { 'authentication.kubernetes.io/pod-name': [t.pod] } } : {}),
            },
            audiences,
          }
        : {
            authenticated: false,
            error: t ? 'token audiences is invalid for the target audiences' : 'invalid bearer token',
          };
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...review, status }));
  }

  private getOne(res: ServerResponse, collection: string, namespace: string | null, name: string): void {
    const obj = this.objects.get(collection)!.get(`${namespace ?? ''}/${name}`);
    if (!obj) return this.status(res, 404, 'NotFound', `"${name}" not found`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  /** POST to a namespaced collection: 201 with the stored object, 409 AlreadyExists when the name is taken. */
  private create(res: ServerResponse, collection: string, namespace: string, body: string): void {
    const input = JSON.parse(body) as ApiObject;
    const name = String(input.metadata?.name ?? '');
    if (this.objects.get(collection)!.has(`${namespace}/${name}`))
      return this.status(res, 409, 'AlreadyExists', `"${name}" already exists`);
    const obj = this.apply({ ...input, metadata: { ...input.metadata, namespace } });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  private patchStatus(
    res: ServerResponse,
    p: { collection: string; namespace: string | null; name: string | null },
    seen: SeenRequest,
  ): void {
    if (seen.contentType !== 'application/merge-patch+json')
      return this.status(
        res,
        415,
        'UnsupportedMediaType',
        `the fake takes merge patches, got ${seen.contentType}`,
      );
    const items = this.objects.get(p.collection)!;
    const key = `${p.namespace ?? ''}/${p.name}`;
    const prev = items.get(key);
    if (!prev) return this.status(res, 404, 'NotFound', `${p.name} not found`);
    const patch = JSON.parse(seen.body) as ApiObject;
    const obj = {
      ...prev,
      status: mergePatch(prev.status, patch.status),
      metadata: { ...prev.metadata, resourceVersion: String(++this.rv) },
    };
    items.set(key, obj);
    this.emit(p.collection, 'MODIFIED', obj);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }
}
