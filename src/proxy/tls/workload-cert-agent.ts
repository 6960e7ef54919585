// The proxy's certificate agent (istio-agent's SecretManager): makes its own key (which never leaves
// the process), sends a CSR for the workload's SPIFFE identity to the CA with the pod's token, and
// installs the answer as SDS secrets `default` (chain + key) and `ROOTCA` (trust bundle). It renews
// at a fraction of the lifetime; TLS contexts pick the new secret up for new connections, while
// connections already open keep the certificate they were made with.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  CA_SERVICE,
  CaServiceClient,
  type CertificateRequest,
  type CertificateResponse,
} from '../../xds/ca-service.js';
import { EC_P256, generateEcKeyPair, privateKeyPem, x509 } from '../../xds/x509.js';
import type { SecretManager } from './secret-manager.js';
import { logger } from '../log.js';

const log = logger('ca');

/** Istio's SDS names for the workload certificate and the root. */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

/** Settings of the agent. */
export interface CertAgentOptions {
  /** CA address `host:port` (the control plane's xDS port). */
  readonly caAddress: string;
  /** File holding the pod's bearer token; read before every request (tokens may be replaced). */
  readonly tokenFile: string;
  /** The SPIFFE identity to ask for. */
  readonly identity: string;
  /** Requested certificate lifetime, seconds (0 = the CA's default, 24 h). */
  readonly ttlSeconds: number;
  /** Renew when this fraction of the lifetime has passed (Istio's SECRET_GRACE_PERIOD_RATIO: 0.5). */
  readonly rotationFraction: number;
  readonly secrets: SecretManager;
  /** Called after every installed certificate. */
  readonly onCertificate?: () => void;
}

/** What the agent holds now, for logs and admin. */
export interface CertState {
  readonly serial: string;
  readonly notAfter: Date;
  readonly rotations: number;
}

/** Keeps the proxy's workload certificate fresh. */
export class WorkloadCertAgent {
  private readonly client: grpc.Client;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failures = 0;
  /** The current certificate, null until the first one arrived. */
  state: CertState | null = null;

  constructor(private readonly o: CertAgentOptions) {
    this.client = new CaServiceClient(o.caAddress, grpc.credentials.createInsecure());
  }

  /** True once a certificate is installed. */
  get ready(): boolean {
    return this.state !== null;
  }

  /** Requests the first certificate now (and keeps renewing until close). */
  start(): void {
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.client.close();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.renew(), ms);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const keys = await generateEcKeyPair();
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        keys,
        signingAlgorithm: EC_P256,
        extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: this.o.identity }])],
      });
      const chain = await this.call(csr.toString('pem'));
      if (this.closed) return;
      this.install(chain, await privateKeyPem(keys.privateKey));
      this.failures = 0;
    } catch (e) {
      if (this.closed) return;
      this.failures++;
      // Istio's agent retries with backoff; the last good certificate keeps serving meanwhile.
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6));
      const left = this.state
        ? `; the current certificate is valid until ${this.state.notAfter.toISOString()}`
        : '';
      log.warn(
        `certificate request for ${this.o.identity} failed: ${(e as Error).message}; retrying in ${delay} ms${left}`,
      );
      this.schedule(delay);
    }
  }

  private call(csr: string): Promise<string[]> {
    let token: string;
    try {
      token = readFileSync(this.o.tokenFile, 'utf8').trim();
    } catch (e) {
      return Promise.reject(
        new Error(`cannot read the token file ${this.o.tokenFile}: ${(e as NodeJS.ErrnoException).code}`),
      );
    }
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const m = CA_SERVICE.CreateCertificate;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<CertificateRequest, CertificateResponse>(
        m.path,
        (r: CertificateRequest): Buffer => m.requestSerialize(r),
        (b: Buffer): CertificateResponse => m.responseDeserialize(b) as CertificateResponse,
        { csr, validityDuration: this.o.ttlSeconds },
        md,
        { deadline: Date.now() + 10_000 },
        (err, res) => {
          if (err) reject(new Error(`${grpc.status[err.code] ?? err.code}: ${err.details}`));
          else if (!res || res.certChain.length < 2)
            reject(new Error('the CA answered without a chain up to the root'));
          else resolve(res.certChain);
        },
      );
    });
  }

  private install(chain: string[], keyPem: string): void {
    const leaf = new X509Certificate(chain[0]);
    const root = chain[chain.length - 1];
    const version = `${leaf.serialNumber}`;
    const errors = this.o.secrets.apply(
      [
        {
          name: WORKLOAD_SECRET,
          tlsCertificate: {
            certificateChain: { inlineBytes: Buffer.from(chain.slice(0, -1).join('')) },
            privateKey: { inlineBytes: Buffer.from(keyPem) },
          },
        },
        { name: ROOT_SECRET, validationContext: { trustedCa: { inlineBytes: Buffer.from(root) } } },
      ],
      version,
      'agent',
    );
    if (errors.length > 0) throw new Error(errors.join('; '));
    const now = Date.now();
    const notAfter = new Date(leaf.validTo);
    const rotations = this.state ? this.state.rotations + 1 : 0;
    this.state = { serial: leaf.serialNumber, notAfter, rotations };
    const lifetime = Math.max(0, notAfter.getTime() - now);
    const renewIn = Math.max(100, Math.floor(lifetime * this.o.rotationFraction));
    log.info(
      `installed certificate ${leaf.serialNumber} for ${uriSan(leaf) || this.o.identity}, valid until ${notAfter.toISOString()}; renewing in ${Math.round(renewIn / 1000)} s`,
    );
    this.schedule(renewIn);
    this.o.onCertificate?.();
  }
}

/** The certificate's first URI SAN ('' when none): the identity the CA granted. */
function uriSan(cert: X509Certificate): string {
  return /URI:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1] ?? '';
}
