// The CA root kept in Kubernetes Secrets as istiod keeps it: `cacerts` (plugged in by the user) or `istio-ca-secret` (self-signed, shared by replicas).
import type { KubeConfig } from '@kubernetes/client-node';
import type { CaRootFiles, CaRootStore } from '../ca-root-store.js';
import { apiRequest, statusMessage } from './api-request.js';

/** Istio's plug-in CA Secret: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem. */
export const PLUGGED_SECRET = 'cacerts';
/** Where istiod keeps the self-signed root it made, so every replica signs with it. */
export const SELF_SIGNED_SECRET = 'istio-ca-secret';

/**
 * A {@link CaRootStore} on the control plane's namespace. `load()` prefers the `cacerts` Secret (a
 * plugged-in CA; the local-token key, which it lacks, comes from `istio-ca-secret` when that has one),
 * else `istio-ca-secret`. `createIfAbsent()` creates `istio-ca-secret`; a replica that loses the race
 * gets 409 AlreadyExists and adopts the stored one.
 */
export class KubernetesCaRootStore implements CaRootStore {
  constructor(
    private readonly kc: KubeConfig,
    /** The control plane's namespace (istiod's: istio-system). */
    readonly namespace: string,
  ) {}

  get description(): string {
    return `Secret ${this.namespace}/${SELF_SIGNED_SECRET} (or ${this.namespace}/${PLUGGED_SECRET} when present)`;
  }

  async load(): Promise<CaRootFiles | null> {
    const plugged = await this.read(PLUGGED_SECRET);
    const own = await this.read(SELF_SIGNED_SECRET);
    if (!plugged) return own;
    const tokenKey = Object.entries(own ?? {}).filter(([f]) => !f.endsWith('.pem'));
    return { ...plugged, ...Object.fromEntries(tokenKey) };
  }

  async createIfAbsent(files: CaRootFiles): Promise<CaRootFiles> {
    const data: Record<string, string> = {};
    for (const [f, text] of Object.entries(files)) data[f] = Buffer.from(text).toString('base64');
    const res = await apiRequest(this.kc, 'POST', `/api/v1/namespaces/${this.namespace}/secrets`, {
      contentType: 'application/json',
      value: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: SELF_SIGNED_SECRET, namespace: this.namespace },
        type: 'istio.io/ca-root',
        data,
      },
    });
    if (res.status === 201 || res.status === 200) return files;
    if (res.status !== 409)
      throw new Error(`cannot create Secret ${this.namespace}/${SELF_SIGNED_SECRET}: ${statusMessage(res)}`);
    const stored = await this.read(SELF_SIGNED_SECRET);
    if (!stored)
      throw new Error(
        `Secret ${this.namespace}/${SELF_SIGNED_SECRET} vanished while the CA root was being created`,
      );
    return stored;
  }

  /** A Secret's data decoded, or null when it does not exist. */
  private async read(name: string): Promise<CaRootFiles | null> {
    const res = await apiRequest(this.kc, 'GET', `/api/v1/namespaces/${this.namespace}/secrets/${name}`);
    if (res.status === 404) return null;
    if (res.status !== 200)
      throw new Error(`cannot read Secret ${this.namespace}/${name}: ${statusMessage(res)}`);
    const data = (res.body as { data?: Record<string, unknown> }).data ?? {};
    const files: Record<string, string> = {};
    for (const [f, v] of Object.entries(data))
      if (typeof v === 'string') files[f] = Buffer.from(v, 'base64').toString('utf8');
    return files;
  }
}
