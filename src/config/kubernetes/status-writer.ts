// Writes Istio resources' `status` through the API's status subresource (merge patch), one request at a time.
import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequest, statusMessage } from './api-request.js';
import { statusHolds, type IstioStatus } from './istio-status.js';
import type { KubeObject } from './kube-object.js';
import type { WatchedKind } from './watched-kinds.js';

interface Pending {
  readonly path: string;
  readonly what: string;
  readonly status: IstioStatus;
}

/**
 * Queues status writes: a resource whose status already holds what it should gets none, and one write
 * per resource and wanted status (the watch event of our own write arrives later; until then the
 * object's old status must not trigger the same write again). Failures are logged once per resource
 * and status; a later change of either tries again.
 */
export class StatusWriter {
  private readonly queue = new Map<string, Pending>();
  private readonly written = new Map<string, string>();
  private running = false;
  private closed = false;
  /** Status writes the API accepted (for /debug and tests). */
  writes = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly log: (line: string) => void,
  ) {}

  /** Writes `status` on `obj` unless it holds it already. */
  offer(kind: WatchedKind, obj: KubeObject, status: IstioStatus): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    const key = `${kind.kind}/${ns}/${name}`;
    const wanted = JSON.stringify(status);
    if (statusHolds(obj.status, status)) {
      this.written.set(key, wanted);
      return;
    }
    if (this.written.get(key) === wanted) return;
    const base = kind.path.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(ns)}/$1`);
    this.queue.set(key, {
      path: `${base}/${encodeURIComponent(name)}/status`,
      what: `${kind.kind} ${ns}/${name}`,
      status,
    });
    this.written.set(key, wanted);
    void this.drain();
  }

  /** Forgets a deleted resource. */
  forget(kind: WatchedKind, obj: KubeObject): void {
    const key = `${kind.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    this.queue.delete(key);
    this.written.delete(key);
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.size > 0) {
        const [key, p] = this.queue.entries().next().value as [string, Pending];
        this.queue.delete(key);
        await this.write(p);
      }
    } finally {
      this.running = false;
    }
  }

  private async write(p: Pending): Promise<void> {
    try {
      const res = await apiRequest(this.kc, 'PATCH', p.path, {
        contentType: 'application/merge-patch+json',
        value: { status: p.status },
      });
      if (res.status === 200) this.writes++;
      else if (res.status !== 404)
        this.log(
          `config: WARNING: cannot write the status of ${p.what} (${statusMessage(res)}); ${res.status === 403 ? 'the control plane needs RBAC to update <kind>/status' : 'it keeps serving as logged'}`,
        );
    } catch (err) {
      this.log(`config: WARNING: cannot write the status of ${p.what}: ${(err as Error).message}`);
    }
  }
}
