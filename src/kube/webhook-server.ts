// The admission webhooks over HTTPS (the API server only calls webhooks over TLS): POST /inject
// (mutating, sidecar injection) and POST /validate (validating, Istio config), AdmissionReview v1.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admissionRequest, injectAdmission, validateAdmission } from './admission.js';
import type { InjectOptions } from './sidecar-template.js';

/** Settings of a {@link WebhookServer}. */
export interface WebhookServerOptions {
  /** PEM certificate (chain) and key the API server sees; its SANs must name the webhook Service. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** What injected sidecars run and where they find the control plane. */
  readonly inject: InjectOptions;
  readonly log?: (line: string) => void;
}

/** Largest AdmissionReview accepted, bytes (the API server caps objects at about 3 MiB). */
const MAX_BODY = 8 * 1024 * 1024;

/** Serves /inject and /validate; `listen` resolves with the bound port. */
export class WebhookServer {
  private readonly server: Server;
  private readonly log: (line: string) => void;

  constructor(private readonly options: WebhookServerOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
    this.server = createServer({ cert: options.cert, key: options.key }, (req, res) => this.handle(req, res));
    this.server.on('tlsClientError', () => {});
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log(`webhook: ${err.message}`));
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/inject' && path !== '/validate')
      return send(res, 404, { error: 'webhooks are at /inject and /validate' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST an AdmissionReview' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('error', () => {});
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(res, 413, { error: `AdmissionReview over ${MAX_BODY} bytes` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return send(res, 400, { error: `the body is not JSON: ${(err as Error).message}` });
      }
      const request = admissionRequest(body);
      if (typeof request === 'string') return send(res, 400, { error: request });
      try {
        const review =
          path === '/inject' ? injectAdmission(request, this.options.inject) : validateAdmission(request);
        if (!review.response.allowed)
          this.log(
            `webhook: ${path} refused ${request.kind?.kind ?? '?'} ${request.namespace ?? ''}/${request.name ?? ''}: ${review.response.status?.message}`,
          );
        send(res, 200, review);
      } catch (err) {
        this.log(`webhook: ${path} failed: ${(err as Error).stack ?? String(err)}`);
        send(res, 500, { error: (err as Error).message });
      }
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
