// OUTPUT_CERTS: the workload key, certificate chain and root as PEM files (Istio's agent writes them
// for proxyless gRPC's file_watcher certificate provider). Each file is replaced by a rename; the three
// renames follow each other with no I/O between, so a reader rarely sees a new key with an old chain.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CERT_CHAIN_FILE, KEY_FILE, ROOT_CERT_FILE } from './grpc-bootstrap.js';

/** One certificate's PEM files. */
export interface CertFiles {
  /** PKCS#8 private key. */
  readonly key: Buffer;
  /** Leaf first, then intermediates. */
  readonly chain: Buffer;
  /** The trust bundle. */
  readonly root: Buffer;
}

/** Writes key.pem (mode 0600), cert-chain.pem and root-cert.pem in `dir` (created 0700 when absent). */
export function writeOutputCerts(dir: string, c: CertFiles): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: [string, Buffer, number][] = [
    [KEY_FILE, c.key, 0o600],
    [CERT_CHAIN_FILE, c.chain, 0o644],
    [ROOT_CERT_FILE, c.root, 0o644],
  ];
  const tmp = (name: string): string => join(dir, `.${name}.tmp-${process.pid}`);
  try {
    for (const [name, data, mode] of files) writeFileSync(tmp(name), data, { mode });
    for (const [name] of files) renameSync(tmp(name), join(dir, name));
  } finally {
    for (const [name] of files) rmSync(tmp(name), { force: true });
  }
}
