// CA callers proven by Kubernetes service-account tokens: the API server's TokenReview says whose token it is.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Caller, CallerAuthenticator } from '../../ca/token.js';
import { TOKEN_AUDIENCE } from '../../ca/token.js';
import { apiRequest, statusMessage } from './api-request.js';

/** TokenReview.status, the parts read. */
interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; extra?: Record<string, string[]> };
}

/**
 * Authenticates a bearer token with a TokenReview (authentication.k8s.io/v1) for the audience
 * `istio-ca`, as istiod does for the projected token istio-agent sends: the token must be
 * authenticated, for that audience, and belong to a service account (`system:serviceaccount:NS:SA`).
 * The pod name comes from the token's `authentication.kubernetes.io/pod-name` extra when bound to one.
 */
export class TokenReviewAuthenticator implements CallerAuthenticator {
  constructor(private readonly kc: KubeConfig) {}

  async authenticate(token: string): Promise<Caller> {
    const res = await apiRequest(this.kc, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      contentType: 'application/json',
      value: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [TOKEN_AUDIENCE] },
      },
    });
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`TokenReview failed: ${statusMessage(res)}`);
    const st = (res.body as { status?: TokenReviewStatus } | null)?.status ?? {};
    if (!st.authenticated)
      throw new Error(`the API server did not authenticate the token${st.error ? `: ${st.error}` : ''}`);
    if (st.audiences && !st.audiences.includes(TOKEN_AUDIENCE))
      throw new Error(`the token is not for the audience ${TOKEN_AUDIENCE}`);
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(st.user?.username ?? '');
    if (!m)
      throw new Error(
        `the token belongs to ${JSON.stringify(st.user?.username ?? '')}, not a service account`,
      );
    return {
      namespace: m[1],
      serviceAccount: m[2],
      pod: st.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0] ?? '',
    };
  }
}
