// The key layout of Mizzen's data in etcd: one key per resource under `<prefix>config/`, the CA root apart.
import type { ResourceRef } from '../writable-store.js';

/** The namespace segment of cluster-scoped kinds (`_` is not a valid namespace name). */
const CLUSTER_SCOPED = '_';

/** Key names under one prefix (default `/mizzen/`). */
export class EtcdKeys {
  /** The prefix, always ending in `/`. */
  readonly prefix: string;
  /** Where resources live: `<prefix>config/`. */
  readonly config: string;
  /** The CA root material (JSON): `<prefix>ca/root`. */
  readonly caRoot: string;

  constructor(prefix = '/mizzen/') {
    this.prefix = prefix.endsWith('/') ? prefix : prefix + '/';
    this.config = `${this.prefix}config/`;
    this.caRoot = `${this.prefix}ca/root`;
  }

  /** `<prefix>config/<Kind>/<namespace or _>/<name>`. */
  resource(ref: ResourceRef): string {
    return `${this.config}${ref.kind}/${ref.namespace || CLUSTER_SCOPED}/${ref.name}`;
  }

  /** The ref a resource key names, or null for a key outside the layout. */
  parse(key: string): ResourceRef | null {
    if (!key.startsWith(this.config)) return null;
    const parts = key.slice(this.config.length).split('/');
    if (parts.length !== 3 || parts.some((p) => p === '')) return null;
    const [kind, ns, name] = parts;
    return { kind, namespace: ns === CLUSTER_SCOPED ? '' : ns, name };
  }
}
