// Test helpers for the CA: ask a control plane for a workload certificate over gRPC.
import * as grpc from '@grpc/grpc-js';
import { CaServiceClient, type CertificateResponse } from '../xds/ca-service.js';
import { EC_P256, generateEcKeyPair, x509 } from '../xds/x509.js';

/** The identity the helpers ask for: service account sleep in namespace foo. */
export const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

/** CreateCertificate for SLEEP on `xds` with `token`: the chain, or the gRPC status code. */
export async function sign(xds: string, token: string): Promise<{ code: number; chain: string[] }> {
  const client = new CaServiceClient(xds, grpc.credentials.createInsecure()) as any;
  try {
    const keys = await generateEcKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: EC_P256,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: SLEEP }])],
    });
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return await new Promise((resolve) =>
      client.CreateCertificate(
        { csr: csr.toString('pem'), validityDuration: 600 },
        md,
        (err: grpc.ServiceError | null, res: CertificateResponse) =>
          resolve({ code: err ? err.code : 0, chain: res?.certChain ?? [] }),
      ),
    );
  } finally {
    client.close();
  }
}
