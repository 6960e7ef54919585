// The CreateCertificate handler (Istio's IstioCertificateService on istiod): authenticate the caller
// by its bearer token, check the CSR asks for the caller's own SPIFFE identity, sign.
import * as grpc from '@grpc/grpc-js';
import type { CertificateRequest, CertificateResponse } from '../xds/ca-service.js';
import { CaError, type CertificateAuthority } from './authority.js';
import { spiffeId } from './spiffe.js';
import type { CallerAuthenticator } from './token.js';

/** What the handler needs. */
export interface CaServerOptions {
  readonly authority: CertificateAuthority;
  /** Null: no authenticator is configured, so every request is refused (UNAUTHENTICATED). */
  readonly authenticator: CallerAuthenticator | null;
  /** The mesh trust domain now (MeshConfig trustDomain). */
  readonly trustDomain: () => string;
  /** Logs one line per decision. */
  readonly log: (level: 'info' | 'warn', message: string) => void;
}

/** Counts of the CA's decisions (shown on /metrics as citadel_server_*). */
export interface CaCounters {
  csr_count: number;
  success_cert_issuance_count: number;
  authentication_failure_count: number;
  csr_sign_error_count: number;
}

/** Implements CreateCertificate. */
export class CaServer {
  readonly counters: CaCounters = {
    csr_count: 0,
    success_cert_issuance_count: 0,
    authentication_failure_count: 0,
    csr_sign_error_count: 0,
  };

  constructor(private readonly o: CaServerOptions) {}

  /** The signing CA. */
  get authority(): CertificateAuthority {
    return this.o.authority;
  }

  /** The grpc-js implementation object for CA_SERVICE. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      CreateCertificate: (
        call: grpc.ServerUnaryCall<CertificateRequest, CertificateResponse>,
        done: grpc.sendUnaryData<CertificateResponse>,
      ) => {
        this.create(call.request, call.metadata).then(
          (certChain) => done(null, { certChain }),
          (e: { code: grpc.status; details: string }) => done({ code: e.code, details: e.details }),
        );
      },
    };
  }

  /** Signs the request for the caller the metadata's token proves; rejects with a gRPC status. */
  async create(req: CertificateRequest, md: grpc.Metadata): Promise<string[]> {
    this.counters.csr_count++;
    const auth = String(md.get('authorization')[0] ?? '');
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
    if (!token || this.o.authenticator === null) {
      this.counters.authentication_failure_count++;
      const why = !token
        ? 'no bearer token in the authorization metadata'
        : 'this control plane has no token authenticator (start it with --ca-dir and mint tokens there)';
      this.o.log('warn', `CA: refused a CSR: ${why}`);
      throw { code: grpc.status.UNAUTHENTICATED, details: `authentication failed: ${why}` };
    }
    let caller;
    try {
      caller = await this.o.authenticator.authenticate(token);
    } catch (e) {
      this.counters.authentication_failure_count++;
      this.o.log('warn', `CA: refused a CSR: bad token: ${(e as Error).message}`);
      throw { code: grpc.status.UNAUTHENTICATED, details: `authentication failed: ${(e as Error).message}` };
    }
    const identity = spiffeId({ trustDomain: this.o.trustDomain(), ...caller });
    try {
      const chain = await this.o.authority.sign(req.csr, identity, req.validityDuration * 1000);
      this.counters.success_cert_issuance_count++;
      this.o.log(
        'info',
        `CA: signed a certificate for ${identity}${caller.pod ? ` (pod ${caller.pod})` : ''}`,
      );
      return chain;
    } catch (e) {
      this.counters.csr_sign_error_count++;
      const code =
        e instanceof CaError && e.code === 'PERMISSION_DENIED'
          ? grpc.status.PERMISSION_DENIED
          : e instanceof CaError
            ? grpc.status.INVALID_ARGUMENT
            : grpc.status.INTERNAL;
      this.o.log('warn', `CA: refused a CSR from ${identity}: ${(e as Error).message}`);
      throw { code, details: (e as Error).message };
    }
  }
}
