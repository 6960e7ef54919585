// The CA root kept in etcd at `<prefix>ca/root` (JSON), so every control-plane replica signs with one root.
import type { Etcd3 } from 'etcd3';
import type { CaRootFiles, CaRootStore } from '../ca-root-store.js';

/** A {@link CaRootStore} on etcd: create-if-absent is one transaction, so racing replicas agree on one root. */
export class EtcdCaRootStore implements CaRootStore {
  constructor(
    private readonly client: Etcd3,
    /** The key, e.g. `/mizzen/ca/root`. */
    readonly key: string,
  ) {}

  get description(): string {
    return `etcd key ${this.key}`;
  }

  async load(): Promise<CaRootFiles | null> {
    const text = await this.client.get(this.key).string();
    return text === null ? null : parseRoot(text, this.key);
  }

  async createIfAbsent(files: CaRootFiles): Promise<CaRootFiles> {
    const res = await this.client
      .if(this.key, 'Create', '==', 0)
      .then(this.client.put(this.key).value(JSON.stringify(files)))
      .else(this.client.get(this.key))
      .commit();
    if (res.succeeded) return files;
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (!kv) throw new Error(`etcd: ${this.key} vanished while the CA root was being created; try again`);
    return parseRoot(kv.value.toString(), this.key);
  }
}

function parseRoot(text: string, key: string): CaRootFiles {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`etcd: ${key} is not JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw new Error(`etcd: ${key} must be a JSON object of file name → PEM text`);
  return v as CaRootFiles;
}
