// Istio's status port (15021): GET /healthz/ready answers 200 once the proxy is LIVE, 503 before, for
// Kubernetes readiness probes and holdApplicationUntilProxyStarts. Nothing else is served there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves /healthz/ready from a readiness check; listens on all addresses (the kubelet probes the pod IP). */
export class StatusServer {
  private readonly server: Server;

  constructor(ready: () => boolean) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/healthz/ready') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only /healthz/ready is served here\n');
        return;
      }
      const ok = ready();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ok ? '' : 'not ready: no config from the control plane yet\n');
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Binds `host:port` (port 0 picks one); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.on('error', () => {});
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
}
