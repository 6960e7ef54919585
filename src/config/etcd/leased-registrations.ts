// Resources held in etcd under this replica's lease: they vanish by themselves when the replica stops renewing it.
import type { Etcd3, Lease } from 'etcd3';
import type { Resource } from '../../api/resource.js';
import { refOf, type ResourceRef } from '../writable-store.js';
import type { EtcdKeys } from './etcd-keys.js';
import { encodeResource } from './etcd-store.js';

/** Options of {@link LeasedRegistrations}. */
export interface LeasedRegistrationsOptions {
  /** Lease time to live, seconds (default 10): how long registrations outlive a replica that died. */
  readonly ttlSeconds?: number;
  readonly log?: (line: string) => void;
}

/**
 * Writes resources attached to one lease that this process keeps alive (etcd3 renews it every TTL/3).
 * If the lease is lost (etcd unreachable for longer than the TTL), a new one is granted and every
 * registration still held is written again under it. `unregister` deletes a key only while it is
 * still on this replica's lease, so it never removes what another replica re-registered meanwhile.
 */
export class LeasedRegistrations {
  /** The lease and its id once granted; null until the first registration and after a loss. */
  private lease: { lease: Lease; id: Promise<string> } | null = null;
  private readonly held = new Map<string, Resource>();
  private closed = false;
  private rewrite: NodeJS.Timeout | null = null;
  private readonly log: (line: string) => void;
  private readonly ttl: number;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    options: LeasedRegistrationsOptions = {},
  ) {
    this.ttl = options.ttlSeconds ?? 10;
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** Writes `r` under this replica's lease (replacing any earlier value and lease of its key). */
  async register(r: Resource): Promise<void> {
    const key = this.keys.resource(refOf(r));
    this.held.set(key, r);
    await this.client
      .put(key)
      .value(encodeResource(r))
      .lease(await this.leaseId())
      .exec();
  }

  /** Deletes `ref` if its key is still attached to this replica's lease; true when it was deleted. */
  async unregister(ref: ResourceRef): Promise<boolean> {
    const key = this.keys.resource(ref);
    this.held.delete(key);
    if (!this.lease) return false;
    const res = await this.client
      .if(key, 'Lease', '==', await this.lease.id)
      .then(this.client.delete().key(key))
      .commit();
    return res.succeeded;
  }

  /** Stops renewing the lease without revoking it: the registrations live on for at most the TTL. */
  close(): void {
    this.closed = true;
    if (this.rewrite) clearTimeout(this.rewrite);
    const l = this.lease?.lease;
    this.lease = null;
    if (!l) return;
    l.removeAllListeners();
    l.on('lost', () => {});
    // release() stops the keepalive; revoke() would delete every registration at once, and the
    // proxies reconnecting to another replica re-register anyway.
    l.release();
  }

  private leaseId(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('registrations are closed'));
    if (!this.lease) this.lease = this.grant();
    return this.lease.id;
  }

  private grant(): { lease: Lease; id: Promise<string> } {
    const lease = this.client.lease(this.ttl, { autoKeepAlive: true });
    lease.on('lost', (err: Error) => {
      if (this.closed || this.lease?.lease !== lease) return;
      this.lease = null;
      this.log(
        `registrations: lost the etcd lease (${err.message}); writing ${this.held.size} registrations again under a new one in 1 s`,
      );
      this.scheduleRewrite();
    });
    const id = lease.grant();
    id.catch(() => {}); // a failed grant is reported by 'lost'
    return { lease, id };
  }

  /** Writes every held registration again (new lease), retrying every second while etcd is away. */
  private scheduleRewrite(): void {
    if (this.rewrite || this.closed) return;
    this.rewrite = setTimeout(() => {
      this.rewrite = null;
      if (this.held.size === 0) return;
      Promise.all([...this.held.values()].map((r) => this.register(r))).catch((e: Error) => {
        this.log(`registrations: writing them again failed (${e.message}); retrying`);
        this.scheduleRewrite();
      });
    }, 1000);
    this.rewrite.unref();
  }
}
