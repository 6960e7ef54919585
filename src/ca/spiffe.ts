// SPIFFE workload identities as Istio writes them: spiffe://<trust domain>/ns/<namespace>/sa/<service account>.

/** A workload identity: who a certificate speaks for. */
export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Istio's default trust domain (MeshConfig trustDomain). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** `spiffe://td/ns/NS/sa/SA`. */
export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Parses an Istio SPIFFE id; null for anything else. */
export function parseSpiffeId(uri: string): WorkloadIdentity | null {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  return m ? { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] } : null;
}
