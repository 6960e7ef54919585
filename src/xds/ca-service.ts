// The certificate signing API proxies call (Istio's istio.v1.auth.IstioCertificateService, same
// package, message and field numbers): CreateCertificate(csr, validity) → PEM chain, leaf first, root
// last. The caller authenticates with `authorization: Bearer <token>` metadata.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/** A certificate request as the service receives it. */
export interface CertificateRequest {
  /** PEM PKCS#10 request. */
  csr: string;
  /** Requested lifetime, seconds (0 = the CA's default). */
  validityDuration: number;
}

/** The signed chain: leaf first, then intermediates, the root last. */
export interface CertificateResponse {
  certChain: string[];
}

const PROTO = `
syntax = "proto3";
package istio.v1.auth;
message IstioCertificateRequest {
  string csr = 1;
  string subject_id = 2;
  int64 validity_duration = 3;
}
message IstioCertificateResponse {
  repeated string cert_chain = 1;
}`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const Req = root.lookupType('istio.v1.auth.IstioCertificateRequest');
const Res = root.lookupType('istio.v1.auth.IstioCertificateResponse');

/** Full gRPC method path. */
export const CREATE_CERTIFICATE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

/** The service definition for grpc-js servers and clients. */
export const CA_SERVICE: grpc.ServiceDefinition = {
  CreateCertificate: {
    path: CREATE_CERTIFICATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: CertificateRequest) => Buffer.from(Req.encode(Req.fromObject(r)).finish()),
    requestDeserialize: (b: Buffer): CertificateRequest => {
      const o = Req.toObject(Req.decode(b), { longs: Number, defaults: true }) as Record<string, unknown>;
      return { csr: String(o.csr ?? ''), validityDuration: Number(o.validityDuration ?? 0) };
    },
    responseSerialize: (r: CertificateResponse) => Buffer.from(Res.encode(Res.fromObject(r)).finish()),
    responseDeserialize: (b: Buffer): CertificateResponse => {
      const o = Res.toObject(Res.decode(b), { defaults: true }) as { certChain?: string[] };
      return { certChain: o.certChain ?? [] };
    },
  },
};

/** A client constructor for the service. */
export const CaServiceClient = grpc.makeGenericClientConstructor(CA_SERVICE, 'IstioCertificateService');
