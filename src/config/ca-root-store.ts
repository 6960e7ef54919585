// Where the CA keeps its root material when the control plane is replicated (every replica must sign with one root).
/**
 * The CA's root material as files by name, in Istio's `cacerts` layout: `root-cert.pem`,
 * `ca-cert.pem`, `ca-key.pem`, `cert-chain.pem` (the CA decides which it uses). Opaque to the store.
 */
export type CaRootFiles = Readonly<Record<string, string>>;

/**
 * Shared storage for the CA root. A CA that starts calls `load()`; when nothing is stored it makes a
 * root and calls `createIfAbsent()`, which stores it only if no other replica stored one first and
 * resolves with the root that is stored, which the CA must then use (theirs when it lost the race).
 */
export interface CaRootStore {
  /** Where the root is kept, for messages (e.g. `etcd key /mizzen/ca/root`). */
  readonly description: string;
  /** The stored root, or null when none is stored yet. */
  load(): Promise<CaRootFiles | null>;
  /** Stores `files` unless a root is stored already; resolves with the stored root. */
  createIfAbsent(files: CaRootFiles): Promise<CaRootFiles>;
}
