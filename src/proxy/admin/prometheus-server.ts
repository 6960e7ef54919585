// Envoy's Prometheus listener (Istio's 15090): GET /stats/prometheus from the admin's stats, on an
// address scrapers can reach (the pod IP), while admin itself stays on loopback.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAdmin, reply, serveAdmin, type AdminHandler } from './admin-reply.js';

/** Serves only /stats/prometheus, answered by the admin handler. */
export class PrometheusServer {
  private server: Server | null = null;

  constructor(private readonly admin: AdminHandler) {}

  /** Binds `host:port`; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    this.server = await serveAdmin(host, port, (method, url) => {
      const path = url.split('?')[0];
      if (path !== '/stats/prometheus') return reply(404, 'only /stats/prometheus is served here\n');
      if (method !== 'GET' && method !== 'HEAD') return reply(405, 'GET only\n');
      return this.admin('GET', url);
    });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    return s ? closeAdmin(s) : Promise.resolve();
  }
}
