// One JSON request to the Kubernetes API through @kubernetes/client-node's configured transport (TLS, auth).
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';

/** The API server's answer: status code and the JSON body (a Status object on errors), null when not JSON. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** An API error carrying the HTTP status, as ListWatch expects (`statusCode` 410 makes it list again). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

const http = new IsomorphicFetchHttpLibrary();

/**
 * Sends `method path` to the current cluster with the kubeconfig's credentials and TLS settings.
 * Resolves with any HTTP status; rejects only when the server cannot be reached.
 */
export async function apiRequest(
  kc: KubeConfig,
  method: 'GET' | 'PATCH' | 'POST',
  path: string,
  body?: { contentType: string; value: unknown },
): Promise<ApiResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const ctx = new RequestContext(cluster.server.replace(/\/$/, '') + path, HttpMethod[method]);
  ctx.setHeaderParam('Accept', 'application/json');
  if (body) {
    ctx.setHeaderParam('Content-Type', body.contentType);
    ctx.setBody(JSON.stringify(body.value));
  }
  await kc.applySecurityAuthentication(ctx);
  const res = await http.send(ctx).toPromise();
  const text = await res.body.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.httpStatusCode, body: parsed };
}

/** The message of a Kubernetes Status body, or the HTTP status. */
export function statusMessage(res: ApiResponse): string {
  const b = res.body as { message?: unknown; reason?: unknown } | null;
  const msg = b && typeof b.message === 'string' ? b.message : '';
  return `${res.status}${b && typeof b.reason === 'string' ? ` ${b.reason}` : ''}${msg ? `: ${msg}` : ''}`;
}
