// The agent of a proxyless gRPC app (Istio's pilot-agent with GRPC_XDS_BOOTSTRAP and OUTPUT_CERTS, no
// Envoy): the proxy's certificate agent gets and renews the workload certificate (key made here, CSR
// to the CA with the pod's token), and every certificate it installs is written to OUTPUT_CERTS,
// where gRPC's file_watcher certificate provider reads it. The bootstrap is written once the first
// certificate is in place, so an app that waits for GRPC_XDS_BOOTSTRAP never starts without one.
import { X509Certificate } from 'node:crypto';
import { SecretManager } from '../proxy/tls/secret-manager.js';
import { readDataSource } from '../proxy/tls/data-source.js';
import {
  ROOT_SECRET,
  WORKLOAD_SECRET,
  WorkloadCertAgent,
  type CertAgentOptions,
  type CertState,
} from '../proxy/tls/workload-cert-agent.js';
import { logger } from '../proxy/log.js';
import { writeOutputCerts } from './output-certs.js';
import { writeGrpcBootstrap, type GrpcBootstrapOptions } from './grpc-bootstrap.js';

const log = logger('agent');

/** Settings of the gRPC agent. */
export interface GrpcAgentOptions {
  /** Where and how to get the certificate; null = no certificate (plaintext-only bootstrap). */
  readonly certAgent: Omit<CertAgentOptions, 'secrets' | 'onCertificate'> | null;
  /** OUTPUT_CERTS directory (required with certAgent). */
  readonly outputCerts: string | null;
  /** GRPC_XDS_BOOTSTRAP file. */
  readonly bootstrapFile: string;
  readonly bootstrap: Omit<GrpcBootstrapOptions, 'certDir'>;
  /** Called after every certificate written (tests, logs). */
  readonly onCertificate?: (state: CertState) => void;
}

/** Keeps a proxyless gRPC app's bootstrap and certificate files in place. */
export class GrpcAgent {
  private readonly secrets = new SecretManager();
  private readonly certs: WorkloadCertAgent | null;
  private bootstrapWritten = false;

  constructor(private readonly o: GrpcAgentOptions) {
    if (o.certAgent && !o.outputCerts) throw new Error('a certificate needs an OUTPUT_CERTS directory');
    this.certs = o.certAgent
      ? new WorkloadCertAgent({ ...o.certAgent, secrets: this.secrets, onCertificate: () => this.write() })
      : null;
  }

  /** The certificate now held, null before the first. */
  get state(): CertState | null {
    return this.certs?.state ?? null;
  }

  /** Writes the bootstrap now (no certificate) or requests the first certificate. */
  start(): void {
    if (this.certs) this.certs.start();
    else this.writeBootstrap();
  }

  close(): void {
    this.certs?.close();
  }

  /** Writes the installed certificate (throws: the certificate agent retries as for a failed request). */
  private write(): void {
    const cert = this.secrets.get(WORKLOAD_SECRET)?.tlsCertificate;
    const root = this.secrets.get(ROOT_SECRET)?.validationContext?.trustedCa;
    const key = readDataSource(cert?.privateKey, 'privateKey');
    const chain = readDataSource(cert?.certificateChain, 'certificateChain');
    const ca = readDataSource(root, 'trustedCa');
    if (!key || !chain || !ca) throw new Error('the installed certificate is incomplete');
    const dir = this.o.outputCerts as string;
    writeOutputCerts(dir, { key, chain, root: ca });
    const leaf = new X509Certificate(chain);
    log.info(`wrote certificate ${leaf.serialNumber} (valid until ${leaf.validTo}) to ${dir}`);
    if (!this.bootstrapWritten) this.writeBootstrap();
    const state = this.certs?.state;
    if (state) this.o.onCertificate?.(state);
  }

  private writeBootstrap(): void {
    writeGrpcBootstrap(this.o.bootstrapFile, { ...this.o.bootstrap, certDir: this.o.outputCerts });
    this.bootstrapWritten = true;
    log.info(`wrote the gRPC bootstrap ${this.o.bootstrapFile}`);
  }
}
